//! VASCO Digipass token data (SPEC §6.4): the checks on the data blocks of a create.

use base64::alphabet::STANDARD;
use base64::engine::general_purpose::GeneralPurpose;
use base64::engine::{DecodePaddingMode, GeneralPurposeConfig};
use base64::Engine;

use crate::credential::VascoToken;
use crate::error::DomainError;

/// Standard Base64, with or without padding: Digipass exports differ in padding.
const DATA_BLOCK: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// SPEC §6.4's token checks in their order: every authMode exactly 2 characters, then unique,
/// then every data block non-empty Base64. An empty list is refused first.
pub fn validate_tokens(tokens: &[VascoToken]) -> Result<(), DomainError> {
    if tokens.is_empty() {
        return Err(DomainError::VascoTokenRequired);
    }
    if tokens.iter().any(|t| t.auth_mode.chars().count() != 2) {
        return Err(DomainError::InvalidParameter(
            "VascoDpToken authMode must be 2 chars.".into(),
        ));
    }
    for (i, token) in tokens.iter().enumerate() {
        if tokens[..i].iter().any(|t| t.auth_mode == token.auth_mode) {
            return Err(DomainError::InvalidParameter(format!(
                "VascoDpToken authMode '{}' is not unique.",
                token.auth_mode
            )));
        }
    }
    if tokens
        .iter()
        .any(|t| t.data.is_empty() || DATA_BLOCK.decode(&t.data).is_err())
    {
        return Err(DomainError::InvalidParameter(
            "VascoDpToken data must be Base64-encoded.".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(mode: &str, data: &str) -> VascoToken {
        VascoToken {
            auth_mode: mode.into(),
            data: data.into(),
        }
    }

    fn msg(tokens: &[VascoToken]) -> String {
        validate_tokens(tokens).unwrap_err().to_string()
    }

    #[test]
    fn accepts_two_char_unique_modes_with_base64() {
        assert!(validate_tokens(&[t("CR", "AAEC"), t("RO", "AAE="), t("SG", "AAE")]).is_ok());
    }

    #[test]
    fn checks_in_spec_order() {
        assert_eq!(validate_tokens(&[]), Err(DomainError::VascoTokenRequired));
        assert_eq!(
            validate_tokens(&[]).unwrap_err().code(),
            "errors.invalidData"
        );
        // A bad length wins over a repeat and bad data anywhere in the list.
        assert_eq!(
            msg(&[t("CR", "!"), t("CR", "AA=="), t("C", "AA==")]),
            "VascoDpToken authMode must be 2 chars."
        );
        assert_eq!(
            msg(&[t("CRX", "AA==")]),
            "VascoDpToken authMode must be 2 chars."
        );
        assert_eq!(
            msg(&[t("CR", "!"), t("CR", "AA==")]),
            "VascoDpToken authMode 'CR' is not unique."
        );
        assert_eq!(
            msg(&[t("CR", "")]),
            "VascoDpToken data must be Base64-encoded."
        );
        assert_eq!(
            msg(&[t("CR", "not base64!")]),
            "VascoDpToken data must be Base64-encoded."
        );
    }
}
