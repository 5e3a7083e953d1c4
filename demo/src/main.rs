//! `eidlink-demo-service`: the demo public service (log in with an eID card, sign an enrollment
//! contract) on localhost over HTTPS. See the crate README.

use std::io::{IsTerminal as _, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use eidlink_demo::{default_page_module, Config, DemoError, Service, TlsSource};
use eidlink_verifier::{OcspChecker, UnreachablePolicy};

/// Demo public service: log in with an identity card and sign an enrollment contract (Web eID
/// protocol, verified with eidlink-verifier). Prints `listening on https://localhost:PORT/` as the
/// first line of standard output; logs go to standard error.
#[derive(Debug, Parser)]
#[command(name = "eidlink-demo-service", version)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
    /// Site origin the tokens must be bound to [default: https://localhost:PORT, the bound port].
    #[arg(long)]
    origin: Option<String>,
    /// Trusted CA certificate (DER or PEM), e.g. the test root; repeatable.
    #[arg(long = "trust-ca", value_name = "FILE", required = true)]
    trust_ca: Vec<PathBuf>,
    /// Intermediate CA certificate (DER or PEM), e.g. the citizen CA; repeatable.
    #[arg(long = "intermediate", value_name = "FILE")]
    intermediate: Vec<PathBuf>,
    /// HTTPS certificate chain (PEM) [default: a self-signed certificate for localhost].
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// Private key of --tls-cert (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Writes the HTTPS certificate (PEM) to FILE before listening, for clients to trust.
    #[arg(long, value_name = "FILE")]
    write_cert: Option<PathBuf>,
    /// The page module served at /eidlink.js [default: extension/page/eidlink.js].
    #[arg(long, value_name = "FILE")]
    page_module: Option<PathBuf>,
    /// Checks login and signing certificates for revocation with OCSP (the responder in their
    /// authorityInfoAccess, or --ocsp-url); a revoked card is refused.
    #[arg(long)]
    ocsp: bool,
    /// With --ocsp: this responder (http://host:port/) instead of the certificates' own.
    #[arg(long, value_name = "URL", requires = "ocsp")]
    ocsp_url: Option<String>,
    /// With --ocsp: accept a certificate when the responder does not answer (default: refuse it).
    #[arg(long, requires = "ocsp")]
    ocsp_allow_unreachable: bool,
}

fn read(path: &Path) -> Result<Vec<u8>, DemoError> {
    std::fs::read(path).map_err(|source| DemoError::File {
        path: path.to_owned(),
        source,
    })
}

async fn run(args: Args) -> Result<(), DemoError> {
    let tls = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => TlsSource::Files { cert, key },
        _ => TlsSource::SelfSigned,
    };
    let config = Config {
        listen: args.listen,
        origin: args.origin,
        trusted_cas: args.trust_ca.iter().map(|p| read(p)).collect::<Result<_, _>>()?,
        intermediates: args.intermediate.iter().map(|p| read(p)).collect::<Result<_, _>>()?,
        tls,
        page_module: args.page_module.unwrap_or_else(default_page_module),
    };
    // The CAs that issue the citizens' certificates sign (or delegate) their OCSP responses.
    let ocsp = if args.ocsp {
        let mut builder = OcspChecker::builder();
        for ca in config.trusted_cas.iter().chain(&config.intermediates) {
            builder = builder.issuers(ca);
        }
        if let Some(url) = &args.ocsp_url {
            builder = builder.responder_url(url);
        }
        if args.ocsp_allow_unreachable {
            builder = builder.unreachable(UnreachablePolicy::Allow);
        }
        Some(builder.build()?)
    } else {
        None
    };
    let service = Service::bind(config).await?;
    if let Some(checker) = ocsp {
        service.state().set_ocsp(checker);
        tracing::info!(
            allow_unreachable = args.ocsp_allow_unreachable,
            "OCSP revocation checking on"
        );
    }
    if let Some(path) = &args.write_cert {
        std::fs::write(path, service.certificate_pem()).map_err(|source| DemoError::File {
            path: path.clone(),
            source,
        })?;
    }
    {
        let mut out = std::io::stdout().lock();
        // Best effort: a closed stdout must not stop the service.
        let _ = writeln!(out, "listening on {}", service.url());
        let _ = out.flush();
    }
    tracing::info!(url = service.url(), origin = service.origin(), "demo service started");
    service
        .serve_until(async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        })
        .await?;
    tracing::info!("demo service stopped");
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("eidlink-demo-service: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("eidlink-demo-service: {e}");
            ExitCode::FAILURE
        }
    }
}
