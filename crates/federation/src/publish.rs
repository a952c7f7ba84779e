//! What a node publishes so that partners can read its signatures: the
//! extension-definition of the signature extension ([`signature_extension_definition`]),
//! the Passerelle project identity that created it ([`project_identity`]), and the
//! node's own identity, which every signature names as its `signer`.
//!
//! [`Federation::publish`] stores the three into every local collection that an
//! outbound agreement names (the collections partners read from us, and the ones we
//! push and export from), so they travel by pull, push and file like any object; it
//! runs when the node starts serving, before a `passerelle sync` or a partner export,
//! and at `init`. Adding a version that is already stored changes nothing, so running
//! it again is harmless.
//!
//! The extension-definition and the project identity are the same constant objects on
//! every node (the definition's id is what every signed object names, and only its
//! creator may version it, so its creator is the project, not any one node). Egress
//! lets them go untouched, and receivers accept them unsigned (see
//! [`crate::receipt`]). The node's identity goes signed by the node.

use std::collections::BTreeSet;

use stix::canonical::to_canonical_vec;
use stix::json::{self, Value};
use store::{AddOutcome, NewObject, Provenance};
use uuid::Uuid;

use crate::identity::NodeIdentity;
use crate::node::{Federation, FederationError};
use crate::signature::{PROJECT_IDENTITY_ID, project_identity, signature_extension_definition};

/// The provenance `source` of what the node publishes itself (its own data for egress).
pub const PUBLISHED_SOURCE: &str = "published by the node";

/// The objects a node publishes: the signature extension-definition, the project
/// identity that created it, and the node's identity.
pub fn published_objects(identity: &NodeIdentity) -> [Value<'static>; 3] {
    [
        signature_extension_definition(),
        project_identity(),
        identity.stix_object(),
    ]
}

/// Which published identity an object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishedIdentity {
    /// The Passerelle project's identity, creator of the extension-definition: sent as it is.
    Project,
    /// This node's identity: sent signed by the node.
    Node,
}

/// The canonical forms of the published identities, to recognise them exactly:
/// another version, or any change, is an ordinary object again.
#[derive(Debug, Clone, Default)]
pub(crate) struct PublishedForms {
    node_id: String,
    node: Vec<u8>,
    project: Vec<u8>,
}

impl PublishedForms {
    pub(crate) fn new(identity: &NodeIdentity) -> PublishedForms {
        // The constants always have a canonical form; an empty one matches nothing.
        PublishedForms {
            node_id: identity.identity.clone(),
            node: to_canonical_vec(&identity.stix_object()).unwrap_or_default(),
            project: project_identity_form(),
        }
    }

    /// Whether `value` (an object of id `id`) is one of the published identities.
    pub(crate) fn identity(&self, id: &str, value: &Value<'_>) -> Option<PublishedIdentity> {
        let (kind, form) = if id == PROJECT_IDENTITY_ID {
            (PublishedIdentity::Project, &self.project)
        } else if id == self.node_id {
            (PublishedIdentity::Node, &self.node)
        } else {
            return None;
        };
        let same = !form.is_empty() && to_canonical_vec(value).is_ok_and(|c| &c == form);
        same.then_some(kind)
    }
}

fn project_identity_form() -> Vec<u8> {
    to_canonical_vec(&project_identity()).unwrap_or_default()
}

/// Whether `value` is exactly the Passerelle project identity (which travels unsigned).
pub fn is_project_identity(value: &Value<'_>) -> bool {
    let is_it = value
        .as_object()
        .and_then(|obj| obj.get("id"))
        .and_then(Value::as_str)
        == Some(PROJECT_IDENTITY_ID);
    is_it && to_canonical_vec(value).is_ok_and(|c| c == project_identity_form())
}

/// What [`Federation::publish`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishReport {
    /// The collections the objects were published into.
    pub collections: Vec<Uuid>,
    /// Versions added (0 when everything was published before).
    pub added: usize,
}

impl Federation {
    /// Stores the published objects ([`published_objects`]) into every collection an
    /// outbound agreement names. Idempotent.
    pub async fn publish(&self) -> Result<PublishReport, FederationError> {
        let collections: BTreeSet<Uuid> = self
            .egress()
            .partners()
            .flat_map(|p| p.collections.iter().copied())
            .collect();
        let provenance = Provenance::Import {
            source: PUBLISHED_SOURCE.to_owned(),
        };
        let objects = published_objects(self.identity());
        let mut report = PublishReport::default();
        for collection in collections {
            let mut batch = Vec::with_capacity(objects.len());
            for value in &objects {
                let bytes = json::to_string(value).into_bytes();
                let Some(obj) = value.as_object() else {
                    continue;
                };
                batch.push(NewObject::from_object(bytes, obj)?);
            }
            let outcomes = self
                .store()
                .add_objects(collection, &provenance, batch)
                .await?;
            report.added += outcomes
                .iter()
                .filter(|o| matches!(o, AddOutcome::Added { .. }))
                .count();
            report.collections.push(collection);
        }
        if report.added > 0 {
            tracing::info!(
                added = report.added,
                collections = report.collections.len(),
                "published the signature extension-definition and the identities it needs"
            );
        }
        Ok(report)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use stix::{Severity, Timestamp};

    fn node() -> NodeIdentity {
        NodeIdentity::from_seed(
            "identity--5a089565-c09c-463f-bc96-2c28010f66cb",
            "DGSN Rabat",
            Timestamp::parse("2026-11-02T09:00:00.000Z").unwrap(),
            &[7; 32],
        )
    }

    #[test]
    fn published_objects_are_valid_stix_and_the_definition_names_its_creator() {
        let objects = published_objects(&node());
        for object in &objects {
            let errors: Vec<_> = stix::validate_object(object)
                .into_iter()
                .filter(|d| d.severity == Severity::Error)
                .collect();
            assert!(errors.is_empty(), "{errors:?}");
        }
        let definition = objects[0].as_object().unwrap();
        assert_eq!(
            definition.get("created_by_ref").and_then(Value::as_str),
            Some(PROJECT_IDENTITY_ID)
        );
        assert_eq!(
            objects[1]
                .as_object()
                .unwrap()
                .get("id")
                .and_then(Value::as_str),
            Some(PROJECT_IDENTITY_ID)
        );
    }

    #[test]
    fn published_identities_are_recognised_exactly() {
        let node = node();
        let forms = PublishedForms::new(&node);
        let ours = node.stix_object();
        assert_eq!(
            forms.identity(&node.identity, &ours),
            Some(PublishedIdentity::Node)
        );
        // Key order and whitespace do not matter; content does.
        let reordered = json::parse(
            br#"{"name":"Passerelle","id":"identity--b118d360-f8ba-4cf4-8066-899354de7c24","type":"identity","spec_version":"2.1","created":"2026-11-29T00:00:00.000Z","modified":"2026-11-29T00:00:00.000Z","description":"The Passerelle project, which defines the STIX extensions Passerelle nodes use.","identity_class":"organization","object_marking_refs":["marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"]}"#,
        )
        .unwrap();
        assert_eq!(
            forms.identity(PROJECT_IDENTITY_ID, &reordered),
            Some(PublishedIdentity::Project)
        );
        assert!(is_project_identity(&reordered));
        let mut changed = project_identity();
        changed
            .as_object_mut()
            .unwrap()
            .insert("contact_information", Value::from("x"));
        assert_eq!(forms.identity(PROJECT_IDENTITY_ID, &changed), None);
        assert!(!is_project_identity(&changed));
        let mut later = node.stix_object();
        later
            .as_object_mut()
            .unwrap()
            .insert("modified", Value::from("2027-01-01T00:00:00.000Z"));
        assert_eq!(forms.identity(&node.identity, &later), None);
    }
}
