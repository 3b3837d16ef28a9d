//! Values with provenance: set explicitly, filled in from a documented default, or unknown.

use crate::origin::Origin;

/// A value and where it came from. Rules must stay silent on `Unknown`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value<T> {
    /// Written explicitly; the origin points at the attribute.
    Set(T, Origin),
    /// Not written; the provider or API default applies. The origin points at the resource.
    Default(T, Origin),
    /// Could not be determined; the text says why.
    Unknown(String, Origin),
}

impl<T> Value<T> {
    /// The value, when known (set or default).
    #[must_use]
    pub fn known(&self) -> Option<&T> {
        match self {
            Value::Set(v, _) | Value::Default(v, _) => Some(v),
            Value::Unknown(..) => None,
        }
    }

    /// Where it came from.
    #[must_use]
    pub fn origin(&self) -> &Origin {
        match self {
            Value::Set(_, o) | Value::Default(_, o) | Value::Unknown(_, o) => o,
        }
    }

    /// The same provenance around a transformed value.
    #[must_use]
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Value<U> {
        match self {
            Value::Set(v, o) => Value::Set(f(v), o),
            Value::Default(v, o) => Value::Default(f(v), o),
            Value::Unknown(why, o) => Value::Unknown(why, o),
        }
    }

    /// Whether it was filled in from a default.
    #[must_use]
    pub fn is_default(&self) -> bool {
        matches!(self, Value::Default(..))
    }
}
