//! `taxii-bench federation-costs`: what each step of a federated exchange costs per
//! object, in one process and (but for `decide`, `disclose` and `intake_page`) on one thread, over the generated objects, so that the
//! end-to-end figures of `scripts/bench-federation.sh` can be split by cause.
//!
//! The sender holds the objects as its own data (stored unsigned, as `import` stores
//! them); the partner may receive them all (TLP:GREEN). Steps, in the order an object
//! goes through them:
//!
//! - sender: `read` (pages of 1,000 from the store, with provenance), `decide`
//!   (`Federation::decide`: the egress rules, the ends of relationships looked up,
//!   the signature; on every core, so wall-clock time shared by the cores), of which
//!   `sign` is the signature alone (one thread), `record` (the
//!   `disclosed` ledger entries of decided pages, one transaction a page), and
//!   `disclose` (`Federation::disclose`: both in one call);
//! - receiver: `parse` (the strict JSON parse), `validate` (`stix::validate`),
//!   `verify` (the signature check alone, which parses the object again),
//!   `verify_batch` (the same checks by `signature::verify_many`, 500 objects at a
//!   time: what each of two cores does with half a page; one thread),
//!   `intake` (`sync::intake::receive`: parse, validate, verdict, query columns, one
//!   object at a time), `intake_page` (`sync::intake::receive_page`, what the pull
//!   runs: the same for pages of 1,000 on every core, signatures batched), and
//!   storing the batch with the partner's provenance (`store_received`: the objects
//!   and their `received` ledger entries) against storing it as an import
//!   (`store_import`: no ledger).
//!
//! Each step runs `repeat` times (stores into fresh collections each time) and the
//! median is reported, the machine being shared. Results are `key value` lines:
//! `us_<step>` is microseconds per object.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use federation::signature::sign;
use federation::sync::intake::{self, Received};
use federation::{Agreement, Federation, NodeIdentity};
use stix::Timestamp;
use store::{
    Channel, NewCollection, NewObject, ObjectQuery, Provenance, SignatureCheck, SqliteStore, Store,
    SystemClock,
};
use uuid::Uuid;

use crate::generate;

const OUTBOX: Uuid = Uuid::from_u128(0x0b0b_0001_0000_4000_8000_0000_0000_0001);
const BATCH: usize = 1000;

/// The `n`th collection of the receiver (`inbox-n`, `imported-n`).
fn receiver_collection(kind: u128, n: usize) -> Uuid {
    Uuid::from_u128(0x0b0b_0002_0000_4000_8000_0000_0000_0000 | (kind << 16) | n as u128)
}

fn node(name: &str, seed: u8) -> anyhow::Result<NodeIdentity> {
    Ok(NodeIdentity::from_seed(
        &format!(
            "identity--{}",
            Uuid::from_u128(0x1de0_0000_0000_4000_8000_0000_0000_0000 | u128::from(seed))
        ),
        name,
        Timestamp::parse("2026-11-29T00:00:00.000Z").context("timestamp")?,
        &[seed; 32],
    ))
}

/// The agreement of one side: the other as its only partner.
fn agreement(other: &NodeIdentity, name: &str, outbound: &str) -> anyhow::Result<Agreement> {
    let text = format!(
        "[[partners]]\nname = \"{name}\"\nidentity = \"{}\"\npublic_key = \"{}\"\n\
         [partners.outbound]\n{outbound}\n",
        other.identity,
        other.public_key()
    );
    Ok(Agreement::from_toml(&text)?)
}

async fn store_with(dir: &Path, collections: &[(Uuid, &str)]) -> anyhow::Result<Arc<SqliteStore>> {
    let store = Arc::new(SqliteStore::open(dir, Arc::new(SystemClock))?);
    for (id, alias) in collections {
        store
            .create_collection(NewCollection {
                id: *id,
                title: (*alias).to_owned(),
                description: None,
                alias: Some((*alias).to_owned()),
            })
            .await?;
    }
    Ok(store)
}

fn new_object(bytes: Vec<u8>) -> anyhow::Result<NewObject> {
    let value = stix::json::parse(&bytes).map_err(|e| anyhow::anyhow!("{e}"))?;
    let obj = value.as_object().context("not an object")?;
    Ok(NewObject::from_object(bytes.clone(), obj)?)
}

/// Prints the per-object cost of a step: the median of its runs.
fn report(step: &str, mut runs: Vec<Duration>, objects: usize) {
    runs.sort();
    let median = runs
        .get(runs.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or_default();
    println!(
        "us_{step} {:.2}",
        median.as_secs_f64() * 1e6 / objects.max(1) as f64
    );
}

/// Runs `$body` `$repeat` times and reports the median time per object.
macro_rules! timed {
    ($name:expr, $repeat:expr, $objects:expr, $body:block) => {{
        let mut runs = Vec::with_capacity($repeat);
        for _ in 0..$repeat {
            let started = Instant::now();
            $body
            runs.push(started.elapsed());
        }
        report($name, runs, $objects);
    }};
}

pub async fn run(objects: u64, seed: u64, repeat: usize) -> anyhow::Result<()> {
    let repeat = repeat.max(1);
    let n = usize::try_from(objects)?;
    let rabat = node("Rabat", 1)?;
    let paris = node("Paris", 2)?;
    let dir = tempfile::tempdir()?;
    let (sender_dir, receiver_dir) = (dir.path().join("rabat"), dir.path().join("paris"));
    std::fs::create_dir_all(&sender_dir)?;
    std::fs::create_dir_all(&receiver_dir)?;

    // The sender's own data, stored as an import stores it.
    let sender = store_with(&sender_dir, &[(OUTBOX, "outbox")]).await?;
    let own = Provenance::Import {
        source: "bench".into(),
    };
    let mut line = String::with_capacity(1024);
    for start in (0..n).step_by(BATCH) {
        let mut batch = Vec::with_capacity(BATCH);
        for i in start..(start + BATCH).min(n) {
            line.clear();
            generate::write_object(&mut line, seed, i as u64);
            batch.push(new_object(line.clone().into_bytes())?);
        }
        sender.add_objects(OUTBOX, &own, batch).await?;
    }
    let sending = Federation::new(
        sender.clone(),
        agreement(
            &paris,
            "paris",
            "collections = [\"outbox\"]\nmax_tlp = \"green\"",
        )?,
        rabat.clone(),
    )
    .await?;

    // read, decide, disclose, page by page.
    let mut pages: Vec<Vec<store::ObjectRecord>> = Vec::new();
    timed!("read", repeat, n, {
        pages.clear();
        let mut query = ObjectQuery {
            limit: BATCH,
            with_provenance: true,
            ..ObjectQuery::default()
        };
        loop {
            let page = sender.objects(OUTBOX, &query).await?;
            pages.push(page.records);
            match (page.more, page.next) {
                (true, Some(next)) => query.next = Some(next),
                _ => break,
            }
        }
    });
    let mut sent: Vec<Vec<u8>> = Vec::with_capacity(n);
    timed!("decide", repeat, n, {
        sent.clear();
        for records in &pages {
            for outcome in sending.decide("paris", OUTBOX, records.clone()).await? {
                let bytes = outcome.bytes().with_context(|| {
                    format!("{} withheld: {:?}", outcome.record.id, outcome.decision)
                })?;
                sent.push(bytes.to_vec());
            }
        }
    });
    timed!("disclose", repeat, n, {
        for records in &pages {
            sending
                .disclose("paris", Channel::Pull, OUTBOX, records.clone(), None)
                .await?;
        }
    });
    let mut decided = Vec::with_capacity(pages.len());
    for records in &pages {
        decided.push(sending.decide("paris", OUTBOX, records.clone()).await?);
    }
    timed!("record", repeat, n, {
        for outcomes in &decided {
            sending
                .record("paris", Channel::Pull, OUTBOX, outcomes, None)
                .await?;
        }
    });
    timed!("sign", repeat, n, {
        for records in &pages {
            for record in records {
                sign(&record.bytes, &rabat)?;
            }
        }
    });

    // The receiver: one pair of collections per run of the storing steps.
    let mut collections = Vec::new();
    let names: Vec<(Uuid, String)> = (0..repeat)
        .flat_map(|r| {
            [
                (receiver_collection(1, r), format!("inbox-{r}")),
                (receiver_collection(2, r), format!("imported-{r}")),
            ]
        })
        .collect();
    for (id, name) in &names {
        collections.push((*id, name.as_str()));
    }
    let receiver = store_with(&receiver_dir, &collections).await?;
    let receiving = Federation::new(
        receiver.clone(),
        agreement(&rabat, "rabat", "collections = []")?,
        paris,
    )
    .await?;
    timed!("parse", repeat, n, {
        for bytes in &sent {
            stix::json::parse(bytes).map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    });
    let values: Vec<_> = sent
        .iter()
        .map(|b| stix::json::parse(b).map_err(|e| anyhow::anyhow!("{e}")))
        .collect::<anyhow::Result<_>>()?;
    timed!("validate", repeat, n, {
        for value in &values {
            stix::validate_object(value);
        }
    });
    drop(values);
    timed!("verify", repeat, n, {
        for bytes in &sent {
            let check = receiving.check_signature(bytes);
            if !matches!(check, SignatureCheck::Verified { .. }) {
                anyhow::bail!("signature: {check:?}");
            }
        }
    });
    let keys = |identity: &str| receiving.key_of(identity);
    timed!("verify_batch", repeat, n, {
        for part in sent.chunks(BATCH / 2) {
            let refs: Vec<&[u8]> = part.iter().map(Vec::as_slice).collect();
            let checks = federation::signature::verify_many(&refs, &keys);
            if let Some(check) = checks
                .iter()
                .find(|c| !matches!(c, SignatureCheck::Verified { .. }))
            {
                anyhow::bail!("signature: {check:?}");
            }
        }
    });
    timed!("intake_page", repeat, n, {
        for page in sent.chunks(BATCH) {
            for received in intake::receive_page(&receiving, "rabat", page)? {
                if let Received::Rejected(r) = received {
                    anyhow::bail!("rejected: {r:?}");
                }
            }
        }
    });
    let mut kept = Vec::with_capacity(n);
    let mut diagnostics = Vec::new();
    timed!("intake", repeat, n, {
        kept.clear();
        for (i, bytes) in sent.iter().enumerate() {
            match intake::receive(&receiving, "rabat", bytes.clone(), i, &mut diagnostics)? {
                Received::Keep { object, .. } => kept.push(*object),
                Received::Rejected(r) => anyhow::bail!("rejected: {r:?}"),
            }
        }
    });
    let received = Federation::provenance(
        "rabat",
        Channel::Pull,
        SignatureCheck::Verified {
            signer: rabat.identity.clone(),
        },
    );
    // Alternated, so that neither always runs on a warmer cache.
    let (mut with_ledger, mut without) = (Vec::new(), Vec::new());
    for r in 0..repeat {
        for (kind, provenance, runs) in [(1, &received, &mut with_ledger), (2, &own, &mut without)]
        {
            let started = Instant::now();
            for batch in kept.chunks(BATCH) {
                receiver
                    .add_objects(receiver_collection(kind, r), provenance, batch.to_vec())
                    .await?;
            }
            runs.push(started.elapsed());
        }
    }
    report("store_received", with_ledger, n);
    report("store_import", without, n);
    println!("objects {n}");
    Ok(())
}
