//! The pool behaviour matrix lives in `tests/`; this library is empty.
