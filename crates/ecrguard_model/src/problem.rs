//! What a run could not do with its input, in one type for every source and command: a file
//! that cannot be read, a template CloudFormation would refuse, a call AWS denied, a value
//! known only after apply. Where (a file and its lines, an address, an ARN), what kind, and
//! a message; the report decides how each kind counts.

use crate::ResourceId;
use crate::origin::Location;
use std::fmt;

/// Something in the input a run could not read or could not evaluate.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InputProblem {
    /// Whether the input could not be read, or a part of it was read but not evaluated.
    pub kind: ProblemKind,
    /// Where.
    pub place: Place,
    /// What, in one sentence.
    pub message: String,
}

/// How a problem bears on the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProblemKind {
    /// Could not be read or analysed: the result is incomplete (exit 2).
    Error,
    /// Read, but not evaluated (a registry module, a `for_each` known only after apply, an
    /// undecided condition): never a finding by itself, and incomplete only under `--strict`.
    NotEvaluated,
}

/// Where a problem is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Place {
    /// The run as a whole (a flag, a listing that failed before any file).
    Run,
    /// A file, with lines when the problem has them.
    File(Location),
    /// Something the input declares, by the name its source gives it: a Terraform address, a
    /// CloudFormation logical id, a Kubernetes object, a path the walk skipped, a scope of a
    /// live account (`eks`).
    Address(String),
    /// A live resource.
    Arn(String),
}

impl InputProblem {
    /// An input that could not be read or analysed.
    #[must_use]
    pub fn error(place: Place, message: impl Into<String>) -> InputProblem {
        InputProblem {
            kind: ProblemKind::Error,
            place,
            message: message.into(),
        }
    }

    /// A part of the input that was read but not evaluated: by address (a `String`), or by
    /// the [`ResourceId`] that declares it.
    #[must_use]
    pub fn not_evaluated(place: impl Into<Place>, reason: impl Into<String>) -> InputProblem {
        InputProblem {
            kind: ProblemKind::NotEvaluated,
            place: place.into(),
            message: reason.into(),
        }
    }

    /// An error in a file, at `location` when known, else about the whole run.
    #[must_use]
    pub fn at(location: Option<Location>, message: impl Into<String>) -> InputProblem {
        InputProblem::error(location.map_or(Place::Run, Place::File), message)
    }

    /// Whether the result is incomplete because of it (not-evaluated parts count only when
    /// `strict`).
    #[must_use]
    pub fn makes_incomplete(&self, strict: bool) -> bool {
        match self.kind {
            ProblemKind::Error => true,
            ProblemKind::NotEvaluated => strict,
        }
    }

    /// The file and lines, for a problem in a file.
    #[must_use]
    pub fn location(&self) -> Option<&Location> {
        match &self.place {
            Place::File(l) => Some(l),
            _ => None,
        }
    }
}

impl From<String> for Place {
    fn from(address: String) -> Place {
        Place::Address(address)
    }
}

impl From<&ResourceId> for Place {
    /// A live resource by its ARN; anything a source declares by its label.
    fn from(id: &ResourceId) -> Place {
        match id {
            ResourceId::Arn(arn) => Place::Arn(arn.clone()),
            other => Place::Address(other.label().to_string()),
        }
    }
}

impl fmt::Display for Place {
    /// The file and line, address or ARN as shown to users; nothing for [`Place::Run`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Run => Ok(()),
            Place::File(l) => l.fmt(f),
            Place::Address(a) | Place::Arn(a) => f.write_str(a),
        }
    }
}

impl fmt::Display for InputProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.place {
            Place::Run => f.write_str(&self.message),
            _ => write!(f, "{}: {}", self.place, self.message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_names_its_place_before_its_message_and_counts_by_kind() {
        let file = InputProblem::at(
            Some(Location {
                file: "main.tf".into(),
                start_line: 3,
                end_line: 4,
            }),
            "unexpected `}`",
        );
        assert_eq!(file.to_string(), "main.tf:3: unexpected `}`");
        assert_eq!(file.location().map(|l| l.start_line), Some(3));
        let run = InputProblem::at(None, "no such path");
        assert_eq!(run.to_string(), "no such path");
        let arn = InputProblem::error(
            Place::Arn("arn:aws:ecr:us-east-1:111122223333:repository/app".into()),
            "AccessDenied",
        );
        assert!(arn.to_string().starts_with("arn:aws:ecr:"));
        assert!(arn.location().is_none());
        let gap = InputProblem::not_evaluated("module.ecr".to_string(), "a registry module");
        let live = InputProblem::not_evaluated(
            &ResourceId::Arn("arn:aws:ecr:us-east-1:111122223333:repository/app".into()),
            "a condition on a key ecrguard does not know",
        );
        assert!(matches!(live.place, Place::Arn(_)));
        assert!(file.makes_incomplete(false));
        assert!(!gap.makes_incomplete(false));
        assert!(gap.makes_incomplete(true));
        // Errors sort before what was not evaluated.
        assert!(arn < gap);
    }
}
