//! A throwaway CA and server certificate per server, so TLS tests are real.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::apt_install;
use crate::run::status;

/// A throwaway CA and a server certificate it signs for 127.0.0.1 and localhost, so the TLS
/// tests are real (`verify-ca` and `verify-full` trust the CA). Returns (CA, cert, key).
pub fn make_certificates(
    dir: &Path,
    owner: Option<&str>,
) -> Result<(PathBuf, PathBuf, PathBuf), String> {
    if Command::new("openssl").arg("version").output().is_err() {
        apt_install(&["openssl"])?;
    }
    let path = |name: &str| dir.join(name);
    let quiet = |cmd: &mut Command| status(cmd.stderr(std::process::Stdio::null()));
    quiet(
        Command::new("openssl")
            .args([
                "req", "-x509", "-new", "-nodes", "-newkey", "rsa:2048", "-days", "7",
            ])
            .args(["-subj", "/CN=dbpool test CA", "-keyout"])
            .arg(path("ca.key"))
            .arg("-out")
            .arg(path("ca.crt")),
    )?;
    quiet(
        Command::new("openssl")
            .args([
                "req",
                "-new",
                "-nodes",
                "-newkey",
                "rsa:2048",
                "-subj",
                "/CN=127.0.0.1",
            ])
            .arg("-keyout")
            .arg(path("server.key"))
            .arg("-out")
            .arg(path("server.csr")),
    )?;
    fs::write(
        path("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .map_err(|e| e.to_string())?;
    quiet(
        Command::new("openssl")
            .args(["x509", "-req", "-days", "7", "-CAcreateserial", "-in"])
            .arg(path("server.csr"))
            .arg("-CA")
            .arg(path("ca.crt"))
            .arg("-CAkey")
            .arg(path("ca.key"))
            .arg("-extfile")
            .arg(path("server.ext"))
            .arg("-out")
            .arg(path("server.crt")),
    )?;
    status(Command::new("chmod").arg("600").arg(path("server.key")))?;
    if let Some(owner) = owner {
        status(
            Command::new("chown")
                .arg(format!("{owner}:{owner}"))
                .arg(path("server.crt"))
                .arg(path("server.key")),
        )?;
    }
    Ok((path("ca.crt"), path("server.crt"), path("server.key")))
}
