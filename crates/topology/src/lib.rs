//! The hub's topology, declared once: the services that publish events and the table of who
//! receives which event.
#![forbid(unsafe_code)]

use std::fmt;

pub mod routes;

/// The services that publish events; each has its own stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    Brigade,
    Board,
    County,
    /// The legal review of major decisions.
    Review,
    /// Public disclosure; it publishes nothing yet, but has its stream like every source.
    Disclosure,
}

impl Source {
    pub const ALL: [Source; 5] = [
        Source::Brigade,
        Source::Board,
        Source::County,
        Source::Review,
        Source::Disclosure,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Brigade => "brigade",
            Source::Board => "board",
            Source::County => "county",
            Source::Review => "review",
            Source::Disclosure => "disclosure",
        }
    }

    pub fn parse(s: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
