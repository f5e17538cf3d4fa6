//! patscan: a fast scanner for leaked personal access tokens.
//!
//! The pipeline runs one way: a [`source`] yields bytes with a path, the
//! [`scanner`] reads them in bounded chunks and hands each to the
//! [`engine`] (one literal prefilter pass, regexes only around its hits, a
//! dedicated scan for prefix-less formats), whose candidates the rule's
//! validator accepts or drops ([`rules::validate`]: issuer checksums from
//! [`checksum`], else entropy and placeholder filters). [`scan`] gathers
//! [`finding`]s and [`report`] renders them. The binary (`main.rs`) is a thin
//! shell over [`cli`].

pub mod checksum;
pub mod cli;
pub mod engine;
pub mod error;
pub mod finding;
pub mod hook;
pub mod progress;
pub mod report;
pub mod rules;
pub mod scan;
pub mod scanner;
pub mod size;
pub mod source;
pub mod tokengen;
