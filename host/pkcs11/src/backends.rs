//! The one list of token backends of a configuration, which the host, every CLI command, diagnose
//! and the tray look through, so that they all find the same tokens: our drivers over PC/SC first,
//! then the modules the user configured (`pkcs11-modules`, and those `prefer-module` names: always
//! asked), then the well-known vendor modules installed here (asked only about a card none of our
//! drivers runs).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use eidlink_core::{Providers, TokenProvider};
use eidlink_pcsc::PcscProvider;
use eidlink_settings::Config;

use crate::known::known_modules;
use crate::provider::Pkcs11Provider;

/// The backends for `config`.
pub fn providers(config: &Config) -> Providers {
    let mut list: Vec<Box<dyn TokenProvider>> = vec![Box::new(PcscProvider)];
    for p in module_providers(config) {
        list.push(Box::new(p));
    }
    Arc::from(list)
}

/// The PKCS#11 modules `config` asks for, in order, each once.
pub fn module_providers(config: &Config) -> Vec<Pkcs11Provider> {
    let mut out: Vec<Pkcs11Provider> = Vec::new();
    let configured = config.pkcs11_modules.iter().chain(config.prefer_module.values());
    for path in configured.map(PathBuf::from) {
        if !out.iter().any(|p| same_file(p.path(), &path)) {
            let readers = config
                .prefer_module
                .iter()
                .filter(|(_, m)| same_file(Path::new(m), &path))
                .map(|(reader, _)| reader.clone())
                .collect();
            out.push(Pkcs11Provider::configured(path).preferred_for(readers));
        }
    }
    if config.well_known_pkcs11_modules {
        for known in known_modules() {
            if let Some(path) = known.installed() {
                if !out.iter().any(|p| same_file(p.path(), &path)) {
                    out.push(Pkcs11Provider::well_known(known.name, path));
                }
            }
        }
    }
    out
}

/// Whether a module preferred by `config` serves the reader `reader` (the tray reads it through
/// the discovery instead of our driver).
pub fn module_preferred(config: &Config, reader: &str) -> bool {
    config.prefer_module.keys().any(|r| reader.contains(r.as_str()))
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_modules_come_once_in_order_with_their_readers() {
        let config = Config {
            pkcs11_modules: vec!["/opt/a.so".into(), "/opt/b.so".into(), "/opt/a.so".into()],
            prefer_module: [
                ("Reader X".to_owned(), "/opt/b.so".to_owned()),
                ("Reader Y".to_owned(), "/opt/c.so".to_owned()),
            ]
            .into_iter()
            .collect(),
            well_known_pkcs11_modules: false,
            ..Config::default()
        };
        let list = module_providers(&config);
        let paths: Vec<_> = list.iter().map(|p| p.path().display().to_string()).collect();
        assert_eq!(paths, ["/opt/a.so", "/opt/b.so", "/opt/c.so"]);
        assert!(list[0].preferred_readers().is_empty());
        assert_eq!(list[1].preferred_readers(), ["Reader X"]);
        assert!(list.iter().all(|p| !eidlink_core::TokenProvider::is_fallback(p)));
        assert!(module_preferred(&config, "Reader Y 00 00") && !module_preferred(&config, "Reader Z"));
        assert_eq!(providers(&config).len(), 4, "PC/SC first, then the three modules");
    }
}
