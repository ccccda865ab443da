pub mod counted;
pub mod fault_driver;
