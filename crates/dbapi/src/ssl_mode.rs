//! [`SslMode`]: libpq's `sslmode` values, which every network adapter reads the same way.

use crate::{Error, Result};

/// How a network adapter uses TLS, with libpq's meanings, so one DSN option means one thing
/// on every backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SslMode {
    /// Never encrypt.
    Disable,
    /// Encrypt when the server offers TLS, without checking its certificate (the default;
    /// libpq's `allow` is read as this too).
    #[default]
    Prefer,
    /// Always encrypt, without checking the certificate.
    Require,
    /// Encrypt and check the certificate chain against `sslrootcert`.
    VerifyCa,
    /// As `VerifyCa`, and check that the certificate names the host connected to.
    VerifyFull,
}

impl SslMode {
    /// Reads an `sslmode` DSN option.
    ///
    /// ```
    /// use dbapi::SslMode;
    /// assert_eq!(SslMode::parse("verify-full").ok(), Some(SslMode::VerifyFull));
    /// assert!(SslMode::parse("on").is_err());
    /// ```
    ///
    /// # Errors
    /// An Interface error naming the values there are.
    pub fn parse(value: &str) -> Result<Self> {
        Ok(match value {
            "disable" => Self::Disable,
            "allow" | "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            other => {
                return Err(Error::interface(format!(
                    "sslmode={other:?} is not one of disable, allow, prefer, require, verify-ca, verify-full"
                )))
            }
        })
    }

    /// Whether the mode cannot work without TLS support in the build (`require` and the
    /// verifying modes).
    #[must_use]
    pub fn needs_tls(self) -> bool {
        matches!(self, Self::Require | Self::VerifyCa | Self::VerifyFull)
    }

    /// The NotSupported error an adapter built without TLS gives for a mode that needs it.
    ///
    /// # Errors
    /// When [`SslMode::needs_tls`]: NotSupported, saying to enable `crate_name`'s `tls`
    /// feature.
    pub fn check_supported_without_tls(self, crate_name: &str) -> Result<()> {
        if self.needs_tls() {
            return Err(Error::not_supported(format!(
                "this sslmode needs TLS, which this build of {crate_name} does not include: enable its `tls` feature, or use sslmode=disable or prefer"
            )));
        }
        Ok(())
    }
}
