//! The PKCS#11 modules eidlink looks for without being told: the vendor middleware of the eID cards
//! that Web eID reaches through PKCS#11, and OpenSC. They are fallbacks: asked only about a card
//! that none of our drivers runs (`TokenProvider::is_fallback`).
//!
//! Sources of the paths: the module table of Web eID's libelectronic-id
//! (`src/electronic-ids/pkcs11/Pkcs11ElectronicID.cpp`, the `*Pkcs11ModulePath()` functions) for the
//! Belgian, Croatian, Czech, Lithuanian and Luxembourg modules; for OpenSC, `dpkg -L
//! opensc-pkcs11` on Debian, the Fedora package's `%{_libdir}`, the OpenSC MSI's `pkcs11` folder and
//! the macOS package's `/Library/OpenSC/lib`. Windows folders come from the environment
//! (`%SystemRoot%\System32`, `%ProgramFiles%`).

use std::path::PathBuf;

/// A vendor module eidlink knows where to find.
#[derive(Debug, Clone, Copy)]
pub struct KnownModule {
    /// What it is.
    pub name: &'static str,
    /// Where its installer puts it on this system, first match wins; `{System32}`, `{ProgramFiles}`
    /// and `{multiarch}` are filled in.
    pub paths: &'static [&'static str],
    /// Where the paths come from.
    pub source: &'static str,
}

const LIBEID: &str = "libelectronic-id, Pkcs11ElectronicID.cpp";

#[cfg(target_os = "linux")]
const KNOWN: &[KnownModule] = &[
    KnownModule {
        name: "Belgian eID middleware (eid-mw)",
        paths: &[
            "/usr/lib/{multiarch}/libbeidpkcs11.so.0",
            "/usr/lib64/libbeidpkcs11.so.0",
        ],
        source: LIBEID,
    },
    KnownModule {
        name: "Croatian eID (AKD eID Middleware)",
        paths: &["/usr/lib/akd/eidmiddleware/pkcs11/libEidPkcs11.so"],
        source: LIBEID,
    },
    KnownModule {
        name: "Czech eID (eObčanka)",
        paths: &["/usr/lib/{multiarch}/libeopproxyp11.so"],
        source: LIBEID,
    },
    KnownModule {
        name: "Lithuanian eID (PWPW)",
        paths: &["/usr/lib64/pwpw-card-pkcs11.so", "/usr/lib/pwpw-card-pkcs11.so"],
        source: LIBEID,
    },
    KnownModule {
        name: "Lithuanian eID (mCard)",
        paths: &["/usr/lib/mcard-pkcs11.so"],
        source: LIBEID,
    },
    KnownModule {
        name: "Luxembourg eID (Gemalto Classic Client)",
        paths: &["/usr/lib/pkcs11/libgclib.so"],
        source: LIBEID,
    },
    KnownModule {
        name: "OpenSC",
        paths: &["/usr/lib/{multiarch}/opensc-pkcs11.so", "/usr/lib64/opensc-pkcs11.so"],
        source: "dpkg -L opensc-pkcs11 (Debian); the Fedora opensc package",
    },
];

#[cfg(windows)]
const KNOWN: &[KnownModule] = &[
    KnownModule {
        name: "Belgian eID middleware (eid-mw)",
        paths: &["{System32}\\beidpkcs11.dll"],
        source: LIBEID,
    },
    KnownModule {
        name: "Croatian eID (AKD eID Middleware)",
        paths: &["{ProgramFiles}\\AKD\\eID Middleware\\pkcs11\\AkdEidPkcs11_64.dll"],
        source: LIBEID,
    },
    KnownModule {
        name: "Czech eID (eObčanka)",
        paths: &["{System32}\\eopproxyp11.dll"],
        source: LIBEID,
    },
    KnownModule {
        name: "Lithuanian eID (PWPW)",
        paths: &["{ProgramFiles}\\PWPW\\pwpw-card-pkcs11.dll"],
        source: LIBEID,
    },
    KnownModule {
        name: "Lithuanian eID (mCard)",
        paths: &["{ProgramFiles}\\Softemia\\mcard\\mcard-pkcs11.dll"],
        source: LIBEID,
    },
    KnownModule {
        name: "Luxembourg eID (Gemalto Classic Client)",
        paths: &["{ProgramFiles}\\Gemalto\\Classic Client\\BIN\\gclib.dll"],
        source: LIBEID,
    },
    KnownModule {
        name: "OpenSC",
        paths: &["{ProgramFiles}\\OpenSC Project\\OpenSC\\pkcs11\\opensc-pkcs11.dll"],
        source: "the OpenSC MSI (its pkcs11 folder)",
    },
];

#[cfg(target_os = "macos")]
const KNOWN: &[KnownModule] = &[
    KnownModule {
        name: "Belgian eID middleware (eid-mw)",
        paths: &["/Library/Belgium Identity Card/Pkcs11/beid-pkcs11.bundle/Contents/MacOS/libbeidpkcs11.dylib"],
        source: LIBEID,
    },
    KnownModule {
        name: "Croatian eID (AKD eID Middleware)",
        paths: &["/Library/AKD/eID Middleware/pkcs11/libEidPkcs11.so"],
        source: LIBEID,
    },
    KnownModule {
        name: "Czech eID (eObčanka)",
        paths: &["/usr/local/lib/eOPCZE/libeopproxyp11.dylib"],
        source: LIBEID,
    },
    KnownModule {
        name: "Lithuanian eID (PWPW)",
        paths: &["/Library/PWPW-Card/lib/pwpw-card-pkcs11.so"],
        source: LIBEID,
    },
    KnownModule {
        name: "Lithuanian eID (mCard)",
        paths: &["/Library/mCard/lib/mcard-pkcs11.so"],
        source: LIBEID,
    },
    KnownModule {
        name: "Luxembourg eID (Gemalto Classic Client)",
        paths: &["/Library/Frameworks/Pkcs11ClassicClient.framework/Versions/A/Pkcs11ClassicClient/libgclib.dylib"],
        source: LIBEID,
    },
    KnownModule {
        name: "OpenSC",
        paths: &["/Library/OpenSC/lib/opensc-pkcs11.so"],
        source: "the OpenSC macOS package",
    },
];

#[cfg(not(any(target_os = "linux", windows, target_os = "macos")))]
const KNOWN: &[KnownModule] = &[];

/// Debian's multiarch folder for this build's target.
const MULTIARCH: &str = if cfg!(target_arch = "aarch64") {
    "aarch64-linux-gnu"
} else if cfg!(target_arch = "x86") {
    "i386-linux-gnu"
} else {
    "x86_64-linux-gnu"
};

/// The well-known modules of this system.
pub fn known_modules() -> &'static [KnownModule] {
    KNOWN
}

impl KnownModule {
    /// The paths with their placeholders filled in (a placeholder whose variable is unset drops
    /// the path).
    pub fn candidates(&self) -> Vec<PathBuf> {
        self.paths.iter().filter_map(|p| expand(p)).collect()
    }

    /// The first candidate that exists.
    pub fn installed(&self) -> Option<PathBuf> {
        self.candidates().into_iter().find(|p| p.is_file())
    }
}

fn expand(template: &str) -> Option<PathBuf> {
    let mut out = template.replace("{multiarch}", MULTIARCH);
    for (key, var) in [("{System32}", "SystemRoot"), ("{ProgramFiles}", "ProgramFiles")] {
        if out.contains(key) {
            let mut value = std::env::var_os(var)?.into_string().ok()?;
            if key == "{System32}" {
                value.push_str("\\System32");
            }
            out = out.replace(key, &value);
        }
    }
    Some(PathBuf::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_has_paths_and_a_source() {
        for m in known_modules() {
            assert!(!m.paths.is_empty() && !m.source.is_empty(), "{}", m.name);
            for p in m.candidates() {
                assert!(p.is_absolute(), "{}: {}", m.name, p.display());
                assert!(!p.to_string_lossy().contains('{'), "{}", p.display());
            }
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn opensc_is_found_where_debian_installs_it() {
        let opensc = known_modules()
            .iter()
            .find(|m| m.name == "OpenSC")
            .expect("OpenSC entry");
        assert_eq!(
            opensc.candidates()[0],
            PathBuf::from(format!("/usr/lib/{MULTIARCH}/opensc-pkcs11.so"))
        );
    }
}
