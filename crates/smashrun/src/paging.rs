//! Paging: the one loop every paged listing goes through (ends on an empty page only, notices
//! a server that ignores `page`, stops at [`MAX_PAGES`]).

use crate::{Error, SmashRunClient};

/// What explicit paging gave, and whether the server said that was everything.
#[derive(Clone, Debug, Default)]
pub struct Paged<T> {
    /// The items of every page read.
    pub items: T,
    /// Requests it took (pages read, the final empty one included).
    pub pages: usize,
    /// Paging ended on an empty page: SmashRun's own end-of-listing signal. A short page is not
    /// one (a server may cap pages below what was asked for).
    pub complete: bool,
    /// Why the listing is not known to be complete, when it is not.
    pub problem: Option<String>,
}

/// Most pages one listing may take: at a page size of 10, a history of 100,000 runs.
pub const MAX_PAGES: usize = 10_000;

impl SmashRunClient {
    /// Everything at `path`, page by page. It ends on an empty page only: a short page is no
    /// proof of the end, since a server may cap pages below `page_size`. A server that answers
    /// two pages alike ignores `page`: paging stops there with the listing marked incomplete
    /// instead of looping. At most [`MAX_PAGES`] pages. `take` adds a page to what is kept and
    /// says whether the caller has all it wants (a window's start passed): that ends the listing
    /// complete too.
    pub(crate) async fn paged<T: Default>(
        &self,
        path: &str,
        query: &[(&str, String)],
        page_size: usize,
        parse: impl Fn(&[u8]) -> Result<T, String> + Copy,
        len: impl Fn(&T) -> usize,
        mut take: impl FnMut(&mut T, T) -> bool,
    ) -> Result<Paged<T>, Error> {
        let size = page_size.max(1);
        let mut all = T::default();
        let mut previous: Option<u64> = None;
        for page in 0..MAX_PAGES {
            let mut paged = query.to_vec();
            paged.extend([("page", page.to_string()), ("count", size.to_string())]);
            let (chunk, digest) = self
                .fetch(
                    path,
                    &paged,
                    self.config().request_timeout,
                    self.config().retry.max_attempts,
                    |bytes: &bytes::Bytes| parse(bytes).map(|t| (t, digest(bytes))),
                )
                .await?;
            let n = len(&chunk);
            if n == 0 {
                return Ok(Paged {
                    items: all,
                    pages: page + 1,
                    complete: true,
                    problem: None,
                });
            }
            if previous == Some(digest) {
                return Ok(Paged {
                    items: all,
                    pages: page + 1,
                    complete: false,
                    problem: Some(format!(
                        "SmashRun answered page {page} with the same {n} items as page {}: it seems to ignore `page`, so the listing may be incomplete",
                        page - 1
                    )),
                });
            }
            previous = Some(digest);
            if take(&mut all, chunk) {
                return Ok(Paged {
                    items: all,
                    pages: page + 1,
                    complete: true,
                    problem: None,
                });
            }
        }
        Ok(Paged {
            items: all,
            pages: MAX_PAGES,
            complete: false,
            problem: Some(format!(
                "stopped after {MAX_PAGES} pages of {size} without reaching an empty page"
            )),
        })
    }
}

/// A fingerprint of a page's bytes, to notice a server answering two pages alike.
fn digest(bytes: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}
