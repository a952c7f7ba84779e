//! [`Federation`]: a node's agreements resolved against its store, with the keys
//! it knows. Built once at start (and by each CLI command that needs it); the one
//! egress path ([`crate::disclosure`]) and the receipt checks ([`crate::receipt`])
//! are its methods.

use std::collections::HashMap;
use std::sync::Arc;

use store::{Collection, Store, StoreError};
use uuid::Uuid;

use crate::agreement::{Agreement, ConfigError, PartnerConfig};
use crate::egress::EgressContext;
use crate::identity::{NodeIdentity, PublicKey};

/// Why federation could not start or act.
#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    /// The agreements in the configuration are not usable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A partner name that the configuration does not define.
    #[error("{0:?} is not a configured partner")]
    UnknownPartner(String),
}

/// The node's federation state: who we are, our partners, their keys, and the store.
pub struct Federation {
    store: Arc<dyn Store>,
    agreement: Agreement,
    egress: EgressContext,
    /// Public keys by STIX identity id: every partner's and our own.
    keys: HashMap<String, PublicKey>,
}

impl std::fmt::Debug for Federation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Federation")
            .field("identity", &self.egress.identity.identity)
            .field("partners", &self.agreement.partners.len())
            .finish_non_exhaustive()
    }
}

impl Federation {
    /// Resolves the agreements' collection names (ids or aliases) against the store
    /// and parses every partner's key; errors name the partner and the field.
    pub async fn new(
        store: Arc<dyn Store>,
        agreement: Agreement,
        identity: NodeIdentity,
    ) -> Result<Federation, FederationError> {
        let collections = store.list_collections().await?;
        let resolve = |name: &str| resolve_collection(&collections, name);
        let egress = EgressContext::new(&agreement, identity, &resolve)?;
        let mut keys = HashMap::new();
        for partner in &agreement.partners {
            let key = PublicKey::parse(&partner.public_key).map_err(|e| ConfigError::Partner {
                partner: partner.name.clone(),
                field: "public_key".to_owned(),
                message: e.to_string(),
            })?;
            keys.insert(partner.identity.clone(), key);
        }
        keys.insert(
            egress.identity.identity.clone(),
            egress.identity.public_key(),
        );
        Ok(Federation {
            store,
            agreement,
            egress,
            keys,
        })
    }

    /// The store everything is kept in.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The agreements as configured.
    pub fn agreement(&self) -> &Agreement {
        &self.agreement
    }

    /// The resolved egress context.
    pub fn egress(&self) -> &EgressContext {
        &self.egress
    }

    /// Who we are.
    pub fn identity(&self) -> &NodeIdentity {
        &self.egress.identity
    }

    /// A partner's configuration.
    pub fn partner(&self, name: &str) -> Result<&PartnerConfig, FederationError> {
        self.agreement
            .partner(name)
            .ok_or_else(|| FederationError::UnknownPartner(name.to_owned()))
    }

    /// The public key of a STIX identity we know (a partner or ourselves).
    pub fn key_of(&self, identity: &str) -> Option<PublicKey> {
        self.keys.get(identity).cloned()
    }

    /// A local collection named in the agreements (id or alias), if it exists.
    pub async fn collection(&self, name: &str) -> Result<Collection, FederationError> {
        Ok(self.store.find_collection(name).await?)
    }

    /// The partner whose TAXII account on this node is `account`, if any.
    pub fn partner_of_account(&self, account: &str) -> Option<&PartnerConfig> {
        self.agreement
            .partners
            .iter()
            .find(|p| p.account.as_deref() == Some(account))
    }

    /// Ties every partner's configured account to its partner entry in the store
    /// (and unties accounts no longer named), so TAXII reads by a partner's account
    /// go through egress. Accounts that do not exist yet are reported, not created.
    pub async fn tie_accounts(&self) -> Result<Vec<String>, FederationError> {
        let mut missing = Vec::new();
        let accounts = self.store.list_accounts().await?;
        for account in &accounts {
            let wanted = self
                .partner_of_account(&account.name)
                .map(|p| p.name.clone());
            if account.partner != wanted {
                self.store
                    .set_account_partner(&account.name, wanted)
                    .await?;
            }
        }
        for partner in &self.agreement.partners {
            if let Some(name) = &partner.account
                && !accounts.iter().any(|a| &a.name == name)
            {
                missing.push(format!(
                    "partner {}: account {name:?} does not exist on this node \
                     (create it with `passerelle account add {name}`)",
                    partner.name
                ));
            }
        }
        Ok(missing)
    }
}

/// A collection by id (text) or alias.
fn resolve_collection(collections: &[Collection], name: &str) -> Option<Uuid> {
    collections
        .iter()
        .find(|c| c.id.to_string() == name || c.alias.as_deref() == Some(name))
        .map(|c| c.id)
}
