//! IAM wildcard matching: `*` matches any run of characters (also none), `?` exactly one.

/// Whether `text` matches `pattern`. Greedy matcher with backtracking to the last star, so
/// hostile patterns like `*a*a*a*b` stay linear-ish. Works on bytes when both sides are ASCII
/// (every action name and nearly every ARN), on chars otherwise, and never allocates for ASCII.
#[must_use]
pub fn matches(pattern: &str, text: &str) -> bool {
    if !pattern.contains(['*', '?']) {
        return pattern == text;
    }
    if pattern.is_ascii() && text.is_ascii() {
        return match_units(pattern.as_bytes(), text.as_bytes(), b'*', b'?');
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    match_units(&p, &t, '*', '?')
}

fn match_units<T: PartialEq + Copy>(p: &[T], t: &[T], star_unit: T, any_unit: T) -> bool {
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == any_unit || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == star_unit {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == star_unit)
}

/// Whether the text has a wildcard character.
#[must_use]
pub fn has_wildcard(s: &str) -> bool {
    s.contains(['*', '?'])
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn table() {
        for (p, t, want) in [
            ("*", "", true),
            ("*", "anything", true),
            ("ecr:*", "ecr:putimage", true),
            ("ecr:put*", "ecr:putimage", true),
            ("ecr:put*", "ecr:batchgetimage", false),
            ("ecr:*policy", "ecr:setrepositorypolicy", true),
            ("ecr:?etrepositorypolicy", "ecr:setrepositorypolicy", true),
            ("ecr:?", "ecr:", false),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "aXbY", false),
            ("", "", true),
            ("", "a", false),
            ("*a*a*a*a*a*a*b", &"a".repeat(200), false),
            ("é*", "éa", true),
            ("?", "é", true),
        ] {
            assert_eq!(matches(p, t), want, "{p} vs {t}");
        }
    }
}
