//! Browser edges for the network (wasm32 only): the fetch [`Transport`](crate::client::http::Transport).

pub mod fetch;
pub mod generate;
