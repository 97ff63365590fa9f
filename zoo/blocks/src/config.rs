//! Reading Hugging Face `config.json` files into the families' run-time
//! configurations: the error every reader returns, and the field readers
//! they share (`gpt::config_from_hugging_face`, `vit::config_from_hugging_face`).

use serde_json::{Map, Value};

/// A field of a Hugging Face `config.json` that is missing, of the wrong
/// type, or that the family does not model.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The text is not JSON, or not an object.
    #[error("config.json is not a JSON object: {0}")]
    Json(String),
    /// A field the family needs is absent or of the wrong type.
    #[error("config.json: `{field}` must be {expected}, found {found}")]
    Field {
        /// The field, `n_embd`.
        field: &'static str,
        /// What it must be.
        expected: &'static str,
        /// What the file holds there.
        found: String,
    },
    /// A setting the family does not model (another activation, say).
    #[error("config.json: `{field}` is {found}; this {family} family models only {supported}")]
    Unsupported {
        /// The family, `GPT-2`.
        family: &'static str,
        /// The field, `activation_function`.
        field: &'static str,
        /// What the file holds there.
        found: String,
        /// What the family models.
        supported: &'static str,
    },
}

/// A parsed `config.json`, read on behalf of `family`.
pub(crate) struct ConfigJson {
    family: &'static str,
    object: Map<String, Value>,
}

impl ConfigJson {
    /// `json`, which must be a JSON object.
    pub(crate) fn parse(family: &'static str, json: &str) -> Result<ConfigJson, ConfigError> {
        match serde_json::from_str(json).map_err(|e| ConfigError::Json(e.to_string()))? {
            Value::Object(object) => Ok(ConfigJson { family, object }),
            other => Err(ConfigError::Json(format!("found {other}"))),
        }
    }

    /// The value of `field`, if present.
    pub(crate) fn get(&self, field: &str) -> Option<&Value> {
        self.object.get(field)
    }

    /// `field` is absent or not `expected`.
    pub(crate) fn wrong(&self, field: &'static str, expected: &'static str) -> ConfigError {
        ConfigError::Field {
            field,
            expected,
            found: self
                .get(field)
                .map_or_else(|| "nothing".to_string(), |v| format!("`{v}`")),
        }
    }

    /// `field`, a positive integer.
    pub(crate) fn size(&self, field: &'static str) -> Result<usize, ConfigError> {
        match self.get(field).and_then(Value::as_u64) {
            Some(n) if n > 0 => Ok(n as usize),
            _ => Err(self.wrong(field, "a positive integer")),
        }
    }

    /// Refuses `field` where present and not `modelled` (the family models
    /// only `supported`).
    pub(crate) fn only(
        &self,
        field: &'static str,
        supported: &'static str,
        modelled: impl Fn(&Value) -> bool,
    ) -> Result<(), ConfigError> {
        match self.get(field) {
            Some(v) if !modelled(v) => Err(ConfigError::Unsupported {
                family: self.family,
                field,
                found: v.to_string(),
                supported,
            }),
            _ => Ok(()),
        }
    }
}
