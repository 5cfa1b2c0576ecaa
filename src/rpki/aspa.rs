//! The ASPA table of one snapshot: for each customer AS, the providers it authorises, for
//! the provider authorisation function of ASPA verification
//! (draft-ietf-sidrops-aspa-verification, "Provider Authorization Function").
//!
//! Where it sits: the rpki task merges the ASPAs of the RTR cache in use and of the VRP
//! files (`sources.rs`) and builds one [`AspaTable`] per published [`VrpSnapshot`]
//! (`store.rs`); the policy's path verification (`policy/aspa.rs`) asks it
//! [`AspaTable::authorized`] for each hop of a path. Built once, read many times: customers
//! and each customer's providers are sorted, a lookup is two binary searches.
//!
//! [`VrpSnapshot`]: super::VrpSnapshot

use std::collections::BTreeMap;

use serde::Serialize;

use crate::route::Asn;

/// An ASPA object: the providers a customer AS authorises (RTR v2 type 11, or a VRP
/// file's `aspas`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Aspa {
    /// The customer AS.
    pub customer: Asn,
    /// Its authorised provider ASes.
    pub providers: Vec<Asn>,
}

/// What the ASPAs say of one hop: is AS y an attested provider of AS x?
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attestation {
    /// AS x has no ASPA.
    NoAttestation,
    /// AS x's ASPA lists AS y.
    ProviderPlus,
    /// AS x has an ASPA that does not list AS y.
    NotProviderPlus,
}

/// Every customer AS with an ASPA and the union of its authorised providers (U-SPAS),
/// sorted by customer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AspaTable {
    customers: Vec<Asn>,
    providers: Vec<Box<[Asn]>>,
}

impl AspaTable {
    /// The table of `aspas`; several ASPAs of one customer give the union of their
    /// providers.
    pub fn new(aspas: impl IntoIterator<Item = Aspa>) -> Self {
        let mut by_customer: BTreeMap<Asn, Vec<Asn>> = BTreeMap::new();
        for aspa in aspas {
            (by_customer.entry(aspa.customer).or_default()).extend(aspa.providers);
        }
        let mut table = AspaTable::default();
        for (customer, mut providers) in by_customer {
            providers.sort_unstable();
            providers.dedup();
            table.customers.push(customer);
            table.providers.push(providers.into_boxed_slice());
        }
        table
    }

    /// How many customer ASes have an ASPA.
    pub fn len(&self) -> usize {
        self.customers.len()
    }

    /// Whether no AS has an ASPA.
    pub fn is_empty(&self) -> bool {
        self.customers.is_empty()
    }

    /// The providers `customer` authorises; `None`: it has no ASPA.
    pub fn providers(&self, customer: Asn) -> Option<&[Asn]> {
        let i = self.customers.binary_search(&customer).ok()?;
        Some(&self.providers[i])
    }

    /// The provider authorisation function, `authorized(AS x, AS y)`.
    pub fn authorized(&self, x: Asn, y: Asn) -> Attestation {
        match self.providers(x) {
            None => Attestation::NoAttestation,
            Some(p) if p.binary_search(&y).is_ok() => Attestation::ProviderPlus,
            Some(_) => Attestation::NotProviderPlus,
        }
    }

    /// Every ASPA, by customer.
    pub fn iter(&self) -> impl Iterator<Item = Aspa> + '_ {
        (self.customers.iter().zip(&self.providers)).map(|(&customer, providers)| Aspa {
            customer,
            providers: providers.to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Attestation::{NoAttestation, NotProviderPlus, ProviderPlus};

    fn aspa(customer: u32, providers: &[u32]) -> Aspa {
        Aspa {
            customer: Asn(customer),
            providers: providers.iter().map(|&p| Asn(p)).collect(),
        }
    }

    #[test]
    fn authorized_per_hop_with_the_union_of_a_customers_aspas() {
        let table = AspaTable::new([aspa(64500, &[3, 1]), aspa(64501, &[0]), aspa(64500, &[2])]);
        assert_eq!(table.len(), 2);
        assert_eq!(
            table.providers(Asn(64500)),
            Some(&[Asn(1), Asn(2), Asn(3)][..])
        );
        let cases = [
            (64500, 2, ProviderPlus),
            (64500, 4, NotProviderPlus),
            (64501, 1, NotProviderPlus), // an AS0 ASPA: no provider at all
            (64502, 1, NoAttestation),
        ];
        for (x, y, expected) in cases {
            assert_eq!(table.authorized(Asn(x), Asn(y)), expected, "({x}, {y})");
        }
        let back: Vec<Aspa> = table.iter().collect();
        assert_eq!(back, vec![aspa(64500, &[1, 2, 3]), aspa(64501, &[0])]);
    }
}
