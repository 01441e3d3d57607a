//! Character-list queries: the options, the one matching predicate and the one ordering, shared
//! by every backend so that they return identical pages.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use super::schema::Character;

/// Sort order of a character list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CharacterSort {
    /// By lowercased name, A→Z (ties by id).
    #[default]
    Name,
    /// Most recently used first (never used last; ties by id, descending).
    RecentlyUsed,
    /// Newest first (ties by id, descending).
    Created,
}

/// How `query` matches names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum NameMatch {
    /// The lowercased name contains the lowercased query.
    #[default]
    Substring,
    /// The lowercased name starts with the lowercased query (served by the name index).
    Prefix,
}

/// Options of `list_characters`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CharacterQuery {
    /// Name filter (case-insensitive); empty or absent matches all.
    pub query: Option<String>,
    /// How `query` matches.
    #[serde(rename = "match")]
    pub match_mode: NameMatch,
    /// Only characters with this tag (case-insensitive).
    pub tag: Option<String>,
    /// Only favourites.
    pub favorites_only: bool,
    /// Sort order.
    pub sort: CharacterSort,
    /// Reverse the sort order.
    pub reverse: bool,
    /// Items to skip.
    pub offset: usize,
    /// Page size (default 50, at most [`MAX_PAGE`]).
    pub limit: Option<usize>,
}

/// The largest page `list_characters` returns.
pub const MAX_PAGE: usize = 1000;
/// The page size when none is given.
pub const DEFAULT_PAGE: usize = 50;

/// One page of results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// The items of this page, in order.
    pub items: Vec<T>,
    /// How many items match in total.
    pub total: usize,
    /// The offset this page starts at.
    pub offset: usize,
}

impl CharacterQuery {
    /// The effective page size.
    pub fn page_size(&self) -> usize {
        self.limit.unwrap_or(DEFAULT_PAGE).min(MAX_PAGE)
    }

    /// The lowercased, trimmed name query, if any.
    pub fn needle(&self) -> Option<String> {
        self.query.as_deref().map(|q| q.trim().to_lowercase()).filter(|q| !q.is_empty())
    }

    /// The lowercased tag filter, if any.
    pub fn tag_key(&self) -> Option<String> {
        self.tag.as_deref().map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty())
    }

    /// True when the query yields its page in index order with no post-filter (so that
    /// `offset` can skip index entries and the total is an index count).
    pub fn index_only(&self) -> bool {
        !self.favorites_only
            && (self.needle().is_none() || (self.match_mode == NameMatch::Prefix && self.sort == CharacterSort::Name))
            && (self.tag_key().is_none() || self.needle().is_none())
    }

    /// Whether a (live, indexed) character matches the filters.
    pub fn matches(&self, c: &Character) -> bool {
        if c.deleted {
            return false;
        }
        if self.favorites_only && !c.favorite {
            return false;
        }
        let name = c.ix_name.clone().unwrap_or_else(|| c.name.to_lowercase());
        if let Some(n) = self.needle() {
            let ok = match self.match_mode {
                NameMatch::Prefix => name.starts_with(&n),
                NameMatch::Substring => name.contains(&n),
            };
            if !ok {
                return false;
            }
        }
        if let Some(t) = self.tag_key() {
            if !c.tags.iter().any(|x| x.to_lowercase() == t) {
                return false;
            }
        }
        true
    }

    /// The order of results (IndexedDB index order: key, then primary key, both in the cursor's
    /// direction; strings compared as UTF-16 code units like IndexedDB does).
    pub fn compare(&self, a: &Character, b: &Character) -> Ordering {
        let o = match self.sort {
            CharacterSort::Name => utf16_cmp(&name_key(a), &name_key(b)).then_with(|| utf16_cmp(&a.id, &b.id)),
            CharacterSort::RecentlyUsed => {
                (b.last_used_at.unwrap_or(0), &b.id).cmp(&(a.last_used_at.unwrap_or(0), &a.id))
            }
            CharacterSort::Created => (b.created_at).cmp(&a.created_at).then_with(|| utf16_cmp(&b.id, &a.id)),
        };
        if self.reverse {
            o.reverse()
        } else {
            o
        }
    }

    /// Filters, sorts and pages a full list (the memory backend, and the fallback path).
    pub fn apply(&self, all: impl IntoIterator<Item = Character>) -> Page<Character> {
        self.apply_by(all, |c| c)
    }

    /// [`Self::apply`] over items that carry a character (e.g. a stored value next to its
    /// decoded record): filters, sorts and pages by `character(item)`.
    pub fn apply_by<T>(&self, all: impl IntoIterator<Item = T>, character: impl Fn(&T) -> &Character) -> Page<T> {
        let mut hits: Vec<T> = all.into_iter().filter(|t| self.matches(character(t))).collect();
        crate::sort::by(&mut hits, |a, b| self.compare(character(a), character(b)));
        let total = hits.len();
        let items = hits.into_iter().skip(self.offset).take(self.page_size()).collect();
        Page { items, total, offset: self.offset }
    }
}

fn name_key(c: &Character) -> String {
    c.ix_name.clone().unwrap_or_else(|| c.name.to_lowercase())
}

/// Compares strings by UTF-16 code units (IndexedDB key order).
pub fn utf16_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::schema::Record;

    fn ch(id: &str, name: &str, tags: &[&str], created: i64, used: Option<i64>) -> Character {
        let mut c = Character {
            id: id.into(),
            name: name.into(),
            tags: tags.iter().map(|s| s.to_string()).collect(),
            created_at: created,
            last_used_at: used,
            ..Default::default()
        };
        c.reindex();
        c
    }

    #[test]
    fn filters_sorts_and_pages() {
        let all = vec![
            ch("1", "bob", &["Fantasy"], 3, Some(10)),
            ch("2", "Alice", &["scifi"], 1, None),
            ch("3", "alina", &["fantasy"], 2, Some(20)),
        ];
        let q = CharacterQuery { query: Some("AL".into()), ..Default::default() };
        let p = q.apply(all.clone());
        assert_eq!(p.items.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["2", "3"]);
        let q = CharacterQuery { tag: Some("FANTASY".into()), sort: CharacterSort::RecentlyUsed, ..Default::default() };
        assert_eq!(q.apply(all.clone()).items.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["3", "1"]);
        let q = CharacterQuery { sort: CharacterSort::Created, offset: 1, limit: Some(1), ..Default::default() };
        let p = q.apply(all);
        assert_eq!((p.total, p.items[0].id.as_str()), (3, "3"));
    }

    #[test]
    fn utf16_order_differs_from_utf8_above_the_bmp() {
        // U+FF61 sorts after U+1F600 in UTF-16 (0xFF61 > 0xD83D) but before it in UTF-8.
        assert_eq!(utf16_cmp("\u{FF61}", "\u{1F600}"), Ordering::Greater);
    }
}
