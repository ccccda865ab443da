//! Statement parameters: positional (`?`, `$1`, `%s`) or named (`:name`, `%(name)s`).

use crate::Value;

/// The parameters of one `execute`. Which form a driver accepts is its
/// [`crate::ParamStyle`]; a driver rejects the other form with a clear error.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Params {
    /// Values bound by position, first to `?`/`$1`/`%s`.
    Positional(Vec<Value>),
    /// Values bound by name (without the `:`/`@`/`$` prefix).
    Named(Vec<(String, Value)>),
    /// No parameters.
    #[default]
    None,
}

impl Params {
    /// No parameters; `&Params::NONE` reads well at call sites.
    pub const NONE: Params = Params::None;

    /// The number of values.
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            Self::Positional(v) => v.len(),
            Self::Named(v) => v.len(),
            Self::None => 0,
        }
    }

    /// True when there are no values.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<Vec<Value>> for Params {
    fn from(v: Vec<Value>) -> Self {
        Self::Positional(v)
    }
}

impl From<()> for Params {
    fn from((): ()) -> Self {
        Self::None
    }
}

impl<T: Into<Value>, const N: usize> From<[T; N]> for Params {
    fn from(values: [T; N]) -> Self {
        Self::Positional(values.into_iter().map(Into::into).collect())
    }
}

macro_rules! params_from_tuple {
    ($($name:ident),+) => {
        impl<$($name: Into<Value>),+> From<($($name,)+)> for Params {
            #[allow(non_snake_case)]
            fn from(($($name,)+): ($($name,)+)) -> Self {
                Self::Positional(vec![$($name.into()),+])
            }
        }
    };
}
params_from_tuple!(A);
params_from_tuple!(A, B);
params_from_tuple!(A, B, C);
params_from_tuple!(A, B, C, D);
params_from_tuple!(A, B, C, D, E);
params_from_tuple!(A, B, C, D, E, F);
params_from_tuple!(A, B, C, D, E, F, G);
params_from_tuple!(A, B, C, D, E, F, G, H);

/// Positional parameters: `params![1, "text", None::<i64>]`.
#[macro_export]
macro_rules! params {
    () => { $crate::Params::None };
    ($($value:expr),+ $(,)?) => {
        $crate::Params::Positional(vec![$($crate::Value::from($value)),+])
    };
}

/// Named parameters: `named_params! { "id" => 1, "name" => "x" }`.
#[macro_export]
macro_rules! named_params {
    ($($name:expr => $value:expr),* $(,)?) => {
        $crate::Params::Named(vec![$((::std::string::String::from($name), $crate::Value::from($value))),*])
    };
}
