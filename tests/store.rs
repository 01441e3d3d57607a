//! The store conformance suite against the in-memory store (native), plus memory-only cases.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

use nextchat_tavern::store::conformance::{test_env, T0};
use nextchat_tavern::store::*;
use nextchat_tavern::ErrorCode;
use serde_json::json;

/// A minimal executor: polls the future on this thread, parking until woken.
fn block_on<F: Future>(fut: F) -> F::Output {
    struct ThreadWaker(Thread);
    impl Wake for ThreadWaker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        match fut.as_mut().poll(&mut cx) {
            Poll::Ready(v) => return v,
            Poll::Pending => thread::park(),
        }
    }
}

async fn fresh_store() -> MemoryStore {
    MemoryStore::new(test_env())
}

nextchat_tavern::store_conformance_suite!(native, block_on, fresh_store);

#[test]
fn quota_exceeded_is_typed_and_leaves_the_previous_state() {
    block_on(async {
        let s = MemoryStore::with_quota(test_env(), 4_000);
        let c = s.create(Character::from_card(json!({"data": {"name": "A"}}))).await.unwrap();
        let chat = s.create_chat(Chat::default()).await.unwrap();
        s.append_message(&chat.id, NewMessage { mes: "small".into(), ..Default::default() }).await.unwrap();
        let before = s.used_bytes();
        let big = "x".repeat(5_000);
        let e = s.append_message(&chat.id, NewMessage { mes: big.clone(), ..Default::default() }).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::QuotaExceeded);
        let e = s
            .update::<Character>(&c.id, &mut |c| {
                c.card["data"]["description"] = json!(big.clone());
                Ok(())
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::QuotaExceeded);
        assert_eq!(s.used_bytes(), before);
        let chat2: Chat = s.get(&chat.id).await.unwrap().unwrap();
        assert_eq!((chat2.message_count, chat2.next_seq), (1, 1));
        assert_eq!(s.get::<Character>(&c.id).await.unwrap().unwrap().rev, 1);
        // Smaller writes still work.
        assert_eq!(s.append_message(&chat.id, NewMessage { mes: "ok".into(), ..Default::default() }).await.unwrap().seq, 1);
    });
}

#[test]
fn memory_store_says_it_is_not_persistent() {
    let s = MemoryStore::new(test_env()).as_fallback("IndexedDB is unavailable (private mode)");
    let info = s.info();
    assert_eq!(info.backend, "memory");
    assert!(!info.persistent);
    assert_eq!(info.fallback_reason.as_deref(), Some("IndexedDB is unavailable (private mode)"));
    assert_eq!(info.schema_version, SCHEMA_VERSION);
}

#[test]
fn timestamps_come_from_the_injected_clock_and_ids_from_the_generator() {
    block_on(async {
        let s = MemoryStore::new(test_env());
        let a = s.create(Character::from_card(json!({"data": {"name": "A"}}))).await.unwrap();
        let b = s.create(Character::from_card(json!({"data": {"name": "B"}}))).await.unwrap();
        assert_eq!(a.id, "id00000001");
        assert_eq!(b.id, "id00000002");
        assert_eq!(a.created_at, T0);
        assert_eq!(b.created_at, T0 + 1);
    });
}

#[test]
fn append_cost_does_not_grow_with_chat_length() {
    // Not a benchmark: a guard against O(n) appends (e.g. rewriting the chat).
    block_on(async {
        let s = MemoryStore::new(test_env());
        let chat = s.create_chat(Chat::default()).await.unwrap();
        let time = |n: usize| {
            let s = &s;
            let id = chat.id.clone();
            async move {
                let t = std::time::Instant::now();
                for _ in 0..n {
                    s.append_message(&id, NewMessage { mes: "hello there".into(), ..Default::default() }).await.unwrap();
                }
                t.elapsed().as_secs_f64() / n as f64
            }
        };
        let early = time(200).await;
        time(20_000).await;
        let late = time(200).await;
        assert!(late < early * 5.0 + 20e-6, "append got slower with length: {early:e}s -> {late:e}s");
    });
}

#[test]
fn settings_persist_validate_and_keep_secrets_out_of_backups() {
    use nextchat_tavern::settings;
    block_on(async {
        let s = MemoryStore::new(test_env());
        assert_eq!(settings::load(&s).await.unwrap(), settings::Settings::default());
        let e = settings::update(&s, &json!({"generation": {"temperature": 9}, "voice": {"pitch": 5}})).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::Validation);
        assert!(e.message().contains("generation.temperature") && e.message().contains("voice.pitch"));
        assert!(s.get_setting(settings::SETTINGS_KEY).await.unwrap().is_none(), "nothing saved on error");
        let next = settings::update(&s, &json!({"backend": {"baseUrl": "https://x.example/v1"}, "theme": {"mode": "dark"}})).await.unwrap();
        assert_eq!(next.theme.mode, settings::ThemeMode::Dark);
        let next = settings::update(&s, &json!({"generation": {"temperature": 0.5}})).await.unwrap();
        assert_eq!(next.theme.mode, settings::ThemeMode::Dark, "partial updates keep other fields");
        assert_eq!(settings::load(&s).await.unwrap(), next);
        settings::set_api_key(&s, "openai", Some("sk-live-999")).await.unwrap();
        assert_eq!(settings::load_secrets(&s).await.unwrap().api_keys["openai"], "sk-live-999");
        let mut text = String::new();
        s.export_backup(false, &mut |l| {
            text.push_str(&l);
            Ok(())
        })
        .await
        .unwrap();
        assert!(!text.contains("sk-live-999"));
        assert!(text.contains("x.example"));
    });
}
