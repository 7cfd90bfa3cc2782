//! One field of a merge-PATCH (SPEC §12): left out, sent as `null`, or sent with a value.

/// What a PATCH body says about one field.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Patch<T> {
    /// Not in the body: the stored value stays.
    #[default]
    Keep,
    /// Sent as `null`: the stored value is removed (or, for a field that cannot be absent,
    /// the rule of that field applies).
    Remove,
    /// Sent with this value.
    Set(T),
}

impl<T> Patch<T> {
    /// Whether the field was in the body at all (`null` included).
    pub fn is_sent(&self) -> bool {
        !matches!(self, Patch::Keep)
    }

    /// `Keep` for `None` (a field absent from the body), `Remove` for `Some(None)` (`null`),
    /// `Set` for a value: the shape a JSON reader hands over.
    pub fn from_json(field: Option<Option<T>>) -> Self {
        match field {
            None => Patch::Keep,
            Some(None) => Patch::Remove,
            Some(Some(v)) => Patch::Set(v),
        }
    }

    /// Maps the value of `Set`.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Patch<U> {
        match self {
            Patch::Keep => Patch::Keep,
            Patch::Remove => Patch::Remove,
            Patch::Set(v) => Patch::Set(f(v)),
        }
    }

    /// The stored optional value after this patch: kept, removed, or replaced.
    pub fn merge(self, stored: Option<T>) -> Option<T> {
        match self {
            Patch::Keep => stored,
            Patch::Remove => None,
            Patch::Set(v) => Some(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_states() {
        assert_eq!(Patch::<i32>::default(), Patch::Keep);
        assert_eq!(Patch::from_json(None::<Option<i32>>), Patch::Keep);
        assert_eq!(Patch::<i32>::from_json(Some(None)), Patch::Remove);
        assert_eq!(Patch::from_json(Some(Some(3))), Patch::Set(3));
        assert_eq!(Patch::Keep.merge(Some(1)), Some(1));
        assert_eq!(Patch::Remove.merge(Some(1)), None);
        assert_eq!(Patch::Set(2).merge(Some(1)), Some(2));
        assert_eq!(Patch::Set(2).map(|v| v * 10), Patch::Set(20));
        assert!(!Patch::<i32>::Keep.is_sent());
        assert!(Patch::<i32>::Remove.is_sent());
    }
}
