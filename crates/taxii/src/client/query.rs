//! [`Filters`]: the URL query parameters a client sends (§3.4), written into
//! request URLs the way TAXII servers read them (one parameter per name,
//! lists joined with commas, form-encoded).

use reqwest::Url;

/// The query parameters of a request. Empty lists and `None` are not sent;
/// which ones an endpoint takes is the server's rule (§5: Get Objects and the
/// manifest take all, Get an Object no `match[id]`/`match[type]`, versions
/// only `added_after`, `limit`, `next` and `match[spec_version]`, delete
/// only `match[version]` and `match[spec_version]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// `added_after`: only objects added after this TAXII timestamp.
    pub added_after: Option<String>,
    /// `limit`: the page size asked for; the server may give fewer.
    pub limit: Option<u64>,
    /// `next`: the value of the previous page's `next`.
    pub next: Option<String>,
    /// `match[id]`: object ids.
    pub ids: Vec<String>,
    /// `match[type]`: object types.
    pub types: Vec<String>,
    /// `match[version]`: `first`, `last`, `all` or timestamps.
    pub versions: Vec<String>,
    /// `match[spec_version]`: STIX versions such as `2.1`.
    pub spec_versions: Vec<String>,
}

impl Filters {
    /// With `added_after`.
    pub fn added_after(mut self, timestamp: impl Into<String>) -> Filters {
        self.added_after = Some(timestamp.into());
        self
    }

    /// With `limit`.
    pub fn limit(mut self, limit: u64) -> Filters {
        self.limit = Some(limit);
        self
    }

    /// With `next`.
    pub fn next(mut self, next: impl Into<String>) -> Filters {
        self.next = Some(next.into());
        self
    }

    /// With `match[id]`.
    pub fn ids<S: Into<String>>(mut self, ids: impl IntoIterator<Item = S>) -> Filters {
        self.ids = ids.into_iter().map(Into::into).collect();
        self
    }

    /// With `match[type]`.
    pub fn types<S: Into<String>>(mut self, types: impl IntoIterator<Item = S>) -> Filters {
        self.types = types.into_iter().map(Into::into).collect();
        self
    }

    /// With `match[version]`.
    pub fn versions<S: Into<String>>(mut self, versions: impl IntoIterator<Item = S>) -> Filters {
        self.versions = versions.into_iter().map(Into::into).collect();
        self
    }

    /// With `match[spec_version]`.
    pub fn spec_versions<S: Into<String>>(
        mut self,
        versions: impl IntoIterator<Item = S>,
    ) -> Filters {
        self.spec_versions = versions.into_iter().map(Into::into).collect();
        self
    }

    /// Writes the parameters into `url`'s query (replacing any).
    pub(crate) fn write_to(&self, url: &mut Url) {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(added_after) = &self.added_after {
            pairs.push(("added_after", added_after.clone()));
        }
        if let Some(limit) = self.limit {
            pairs.push(("limit", limit.to_string()));
        }
        if let Some(next) = &self.next {
            pairs.push(("next", next.clone()));
        }
        for (name, list) in [
            ("match[id]", &self.ids),
            ("match[type]", &self.types),
            ("match[version]", &self.versions),
            ("match[spec_version]", &self.spec_versions),
        ] {
            if !list.is_empty() {
                pairs.push((name, list.join(",")));
            }
        }
        if pairs.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(pairs);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_form_encoded_once_each() {
        let mut url = Url::parse("https://x.example/api/collections/c/objects/").unwrap();
        Filters::default().write_to(&mut url);
        assert_eq!(url.query(), None);
        Filters::default()
            .added_after("2020-01-01T00:00:00.000000Z")
            .limit(10)
            .next("a+b/c=")
            .types(["indicator", "malware"])
            .ids(["indicator--1"])
            .versions(["all"])
            .spec_versions(["2.1"])
            .write_to(&mut url);
        assert_eq!(
            url.query().unwrap(),
            "added_after=2020-01-01T00%3A00%3A00.000000Z&limit=10&next=a%2Bb%2Fc%3D\
             &match%5Bid%5D=indicator--1&match%5Btype%5D=indicator%2Cmalware\
             &match%5Bversion%5D=all&match%5Bspec_version%5D=2.1"
        );
        // Writing again replaces the query.
        Filters::default().limit(1).write_to(&mut url);
        assert_eq!(url.query(), Some("limit=1"));
    }
}
