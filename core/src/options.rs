//! The options every store understands: one table, from which the connection-string parser
//! takes its list and against which every binding checks its own builder, keyword arguments or
//! properties (the way they check `ErrorCode::ALL`).

/// What an option's value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OptionKind {
    /// A duration such as `500ms`, `10s`, `1m`.
    Duration,
    /// Free text.
    Text,
    /// A whole number such as `-3`, `0`, `10`.
    Integer,
    /// `true` or `false`.
    Bool,
}

impl OptionKind {
    pub fn name(self) -> &'static str {
        match self {
            OptionKind::Duration => "duration",
            OptionKind::Text => "text",
            OptionKind::Integer => "integer",
            OptionKind::Bool => "bool",
        }
    }
}

/// An option every store understands, settable as a query parameter or through `Config::set`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommonOption {
    Ttl,
    Renew,
    Retry,
    Id,
    Value,
    Silence,
    ConnectTimeout,
    Margin,
    Drain,
    Priority,
    Preempt,
    Holdoff,
    Sticky,
}

impl CommonOption {
    /// Every option, in the order the documentation lists them.
    pub const ALL: [CommonOption; 13] = [
        CommonOption::Ttl,
        CommonOption::Renew,
        CommonOption::Retry,
        CommonOption::Id,
        CommonOption::Value,
        CommonOption::Silence,
        CommonOption::ConnectTimeout,
        CommonOption::Margin,
        CommonOption::Drain,
        CommonOption::Priority,
        CommonOption::Preempt,
        CommonOption::Holdoff,
        CommonOption::Sticky,
    ];

    /// The names of [`CommonOption::ALL`], in the same order.
    pub const NAMES: [&'static str; CommonOption::ALL.len()] = {
        let mut names = [""; CommonOption::ALL.len()];
        let mut i = 0;
        while i < CommonOption::ALL.len() {
            names[i] = CommonOption::ALL[i].name();
            i += 1;
        }
        names
    };

    /// The name in a connection string's query and in `Config::set`.
    pub const fn name(self) -> &'static str {
        match self {
            CommonOption::Ttl => "ttl",
            CommonOption::Renew => "renew",
            CommonOption::Retry => "retry",
            CommonOption::Id => "id",
            CommonOption::Value => "value",
            CommonOption::Silence => "silence",
            CommonOption::ConnectTimeout => "connect_timeout",
            CommonOption::Margin => "margin",
            CommonOption::Drain => "drain",
            CommonOption::Priority => "priority",
            CommonOption::Preempt => "preempt",
            CommonOption::Holdoff => "holdoff",
            CommonOption::Sticky => "sticky",
        }
    }

    pub fn kind(self) -> OptionKind {
        match self {
            CommonOption::Id | CommonOption::Value => OptionKind::Text,
            CommonOption::Priority => OptionKind::Integer,
            CommonOption::Preempt => OptionKind::Bool,
            _ => OptionKind::Duration,
        }
    }

    /// The default, as documentation shows it.
    pub fn default_text(self) -> &'static str {
        match self {
            CommonOption::Ttl => "10s",
            CommonOption::Renew => "ttl/3",
            CommonOption::Retry => "1s",
            CommonOption::Id => "hostname-pid-random",
            CommonOption::Value => "",
            CommonOption::Silence => "0s",
            CommonOption::ConnectTimeout => "5s",
            CommonOption::Margin => "ttl/10",
            CommonOption::Drain => "0s",
            CommonOption::Priority => "0",
            CommonOption::Preempt => "true when priority is set",
            CommonOption::Holdoff => "0s",
            CommonOption::Sticky => "0s",
        }
    }

    /// One line for people.
    pub fn doc(self) -> &'static str {
        match self {
            CommonOption::Ttl => "how long a lease lives without renewal",
            CommonOption::Renew => "interval between lease renewals; shorter than ttl",
            CommonOption::Retry => "pause between attempts after a store error",
            CommonOption::Id => "this candidate's id, unique within the election",
            CommonOption::Value => "what observers see next to the id (e.g. an address)",
            CommonOption::Silence => "pause after losing or resigning before campaigning again",
            CommonOption::ConnectTimeout => "limit on establishing a store connection",
            CommonOption::Margin => {
                "how long before the lease's end a leader stops believing it leads"
            }
            CommonOption::Drain => {
                "how long resign/close wait for the term's work to stop before giving up the \
                 lease (never past the lease deadline); 0s: do not wait"
            }
            CommonOption::Priority => {
                "this candidate's priority; a leader hands over, without a gap or an overlap, to \
                 a candidate of higher priority that has been in the election for one ttl"
            }
            CommonOption::Preempt => {
                "whether this candidate takes over from a leader of lower priority (false: it \
                 waits for its turn)"
            }
            CommonOption::Holdoff => {
                "after a leader is lost without resigning (crash, expiry), nobody is elected \
                 for this long; enforced by the store (file, Redis, PostgreSQL, MySQL)"
            }
            CommonOption::Sticky => {
                "after this leader is lost without resigning, the store keeps the leadership \
                 for it alone for this long (file, Redis, PostgreSQL, MySQL)"
            }
        }
    }

    pub fn from_name(name: &str) -> Option<CommonOption> {
        CommonOption::ALL.into_iter().find(|o| o.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uri::Config;
    use std::time::Duration;

    #[test]
    fn names_are_unique_and_round_trip() {
        for o in CommonOption::ALL {
            assert_eq!(CommonOption::from_name(o.name()), Some(o));
        }
        assert_eq!(
            CommonOption::NAMES.to_vec(),
            CommonOption::ALL.map(|o| o.name()).to_vec()
        );
    }

    #[test]
    fn the_documented_defaults_are_the_parsers() {
        let c = Config::parse("file:///tmp/x").unwrap();
        let d = |o: CommonOption| crate::uri::parse_duration(o.default_text()).unwrap();
        assert_eq!(c.ttl, d(CommonOption::Ttl));
        assert_eq!(c.retry, d(CommonOption::Retry));
        assert_eq!(c.silence, d(CommonOption::Silence));
        assert_eq!(c.drain, d(CommonOption::Drain));
        assert_eq!(c.holdoff, d(CommonOption::Holdoff));
        assert_eq!(c.sticky, d(CommonOption::Sticky));
        assert_eq!(
            c.priority.to_string(),
            CommonOption::Priority.default_text()
        );
        assert!(!c.preempt(), "no priority set: nobody preempts");
        assert_eq!(c.connect_timeout, d(CommonOption::ConnectTimeout));
        assert_eq!(c.renew(), c.ttl / 3);
        assert_eq!(c.margin(), c.ttl / 10);
        assert_eq!(c.value, "");
        let _: Duration = c.ttl;
    }

    #[test]
    fn every_option_is_accepted_with_a_value_of_its_kind() {
        for o in CommonOption::ALL {
            let mut c = Config::parse("file:///tmp/x?ttl=10s").unwrap();
            let value = match o.kind() {
                OptionKind::Duration => "1s",
                OptionKind::Text => "x",
                OptionKind::Integer => "3",
                OptionKind::Bool => "true",
            };
            c.set(o.name(), value)
                .unwrap_or_else(|e| panic!("{}: {e:?}", o.name()));
        }
    }
}
