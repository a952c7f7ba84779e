//! The `passerelle` command line.

fn main() {}
