//! Scope algebra (P-11, P-13, P-14): scopes are set-like, order-preserving
//! lists of strings. This module decides which scope to request on a first
//! authorization, which to request on step-up, which to register with DCR, and
//! when a new authorization or a new registration is needed.
//!
//! Scopes are compared as opaque strings: there is no hierarchy collapsing
//! ("files" and "files:read" are distinct), because the meaning of a scope
//! belongs to the authorization server, not to the client.
//!
//! A server can send a scope string of any length (P-32: 40,000 scopes must
//! take milliseconds), so deduplication and inclusion use a `HashSet`: every
//! operation here is linear, and `canonical` sorts.

use std::collections::HashSet;

/// The scope that asks the AS for a refresh token; added only when the AS
/// advertises it (P-13), since requesting an unsupported scope can fail the
/// whole authorization with `invalid_scope`.
const OFFLINE_ACCESS: &str = "offline_access";

/// Splits a space-separated scope string (RFC 6749 §3.3) on ASCII whitespace,
/// drops empty pieces and duplicates, keeping the first-seen order so that
/// what we send is predictable and mirrors what the server asked for.
pub fn split(s: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    s.split_ascii_whitespace()
        .filter(|piece| seen.insert(*piece))
        .map(str::to_owned)
        .collect()
}

/// Joins scopes with single spaces, the RFC 6749 §3.3 wire form.
pub fn join(v: &[String]) -> String {
    v.join(" ")
}

/// All scopes of all sets, deduplicated, in first-seen order across the sets.
pub fn union(sets: &[&[String]]) -> Vec<String> {
    let mut seen = HashSet::new();
    sets.iter()
        .flat_map(|set| set.iter())
        .filter(|scope| seen.insert(scope.as_str()))
        .cloned()
        .collect()
}

/// The scopes sorted and joined: the same key whatever their order.
pub fn canonical(scopes: &[String]) -> String {
    let mut sorted = scopes.to_vec();
    sorted.sort();
    join(&sorted)
}

/// Set inclusion `want ⊆ have`; order and duplicates are irrelevant.
pub fn contains_all(have: &[String], want: &[String]) -> bool {
    let have: HashSet<&str> = have.iter().map(String::as_str).collect();
    want.iter().all(|scope| have.contains(scope.as_str()))
}

/// `candidate ⊋ base` as sets: every scope of `base` is in `candidate`, and
/// `candidate` has at least one more. Equal sets are not strict supersets.
pub fn is_strict_superset(candidate: &[String], base: &[String]) -> bool {
    contains_all(candidate, base) && !contains_all(base, candidate)
}

/// Appends `offline_access` when the AS lists it and it is not already there.
fn with_offline_access(mut scopes: Vec<String>, as_scopes_supported: &[String]) -> Vec<String> {
    let supported = as_scopes_supported.iter().any(|s| s == OFFLINE_ACCESS);
    if supported && !scopes.iter().any(|s| s == OFFLINE_ACCESS) {
        scopes.push(OFFLINE_ACCESS.to_owned());
    }
    scopes
}

/// P-13 first authorization: the challenge scope if non-empty; else the scope
/// the app configured if non-empty; else the PRM `scopes_supported` if
/// non-empty; else `None`, meaning the `scope` parameter is omitted. Then
/// `offline_access` is appended when the AS lists it, but never to `None`:
/// a request that asks for nothing else should stay without `scope`, leaving
/// the AS to apply its default.
pub fn initial_scope(
    challenge: &[String],
    app_scope: &[String],
    prm_scopes_supported: &[String],
    as_scopes_supported: &[String],
) -> Option<Vec<String>> {
    let chosen = [challenge, app_scope, prm_scopes_supported]
        .into_iter()
        .find(|set| !set.is_empty())?;
    // Dedupe the chosen set too: the inputs come from servers and may repeat.
    Some(with_offline_access(union(&[chosen]), as_scopes_supported))
}

/// P-14 step-up scope: the union of the previously requested scopes, the
/// current token's scopes and the challenged scopes, in that order. Keeping
/// the earlier scopes matters: the new token replaces the old one, so asking
/// only for the challenged scope would lose what the app already had.
pub fn step_up_scope(
    previously_requested: &[String],
    token_scope: &[String],
    challenged: &[String],
) -> Vec<String> {
    union(&[previously_requested, token_scope, challenged])
}

/// P-14: a refresh cannot widen a token's scope, so a new authorization-code
/// flow is needed when the union is a strict superset of the current token's
/// scope. A token without `scope` is passed as an empty slice.
pub fn needs_new_authorization(union: &[String], token_scope: &[String]) -> bool {
    is_strict_superset(union, token_scope)
}

/// P-11 DCR scope: challenge ∪ app scope ∪ PRM `scopes_supported`, in that
/// order, plus `offline_access` when the AS lists it. Registering the wider
/// set matters because some AS (oidc-provider) treat the registered scope as
/// the client's ceiling, so a later step-up would fail with `invalid_scope`.
/// Empty when the three requested sources are all empty: then there is
/// nothing to ask for and the registration omits `scope`.
pub fn registration_scope(
    challenge: &[String],
    app_scope: &[String],
    prm_scopes_supported: &[String],
    as_scopes_supported: &[String],
) -> Vec<String> {
    let requested = union(&[challenge, app_scope, prm_scopes_supported]);
    if requested.is_empty() {
        return requested;
    }
    with_offline_access(requested, as_scopes_supported)
}

/// P-14: a DCR client must register again before asking for `wanted` when
/// `wanted ⊄ registered`. An empty `registered` means the AS did not limit the
/// client, so no re-registration is needed.
pub fn needs_reregistration(wanted: &[String], registered: &[String]) -> bool {
    !registered.is_empty() && !contains_all(registered, wanted)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    fn v(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn p14_split_table() {
        let rows: &[(&str, &[&str])] = &[
            ("", &[]),
            ("   ", &[]),
            ("a", &["a"]),
            ("a b", &["a", "b"]),
            ("  a\tb\n c\r\n", &["a", "b", "c"]),
            ("a  b   a", &["a", "b"]),
            ("b a b a c", &["b", "a", "c"]),
            ("files files:read", &["files", "files:read"]),
        ];
        for (input, want) in rows {
            assert_eq!(split(input), *want, "split({input:?})");
        }
    }

    #[test]
    fn p14_split_is_case_sensitive() {
        assert_eq!(split("Read read"), ["Read", "read"]);
    }

    #[test]
    fn p13_join_uses_single_spaces() {
        assert_eq!(join(&v("a b c")), "a b c");
        assert_eq!(join(&[]), "");
    }

    #[test]
    fn p14_union_table() {
        let rows: &[(&[&str], &str)] = &[
            (&[], ""),
            (&["", ""], ""),
            (&["a b", ""], "a b"),
            (&["", "a b"], "a b"),
            (&["a b", "b c"], "a b c"),
            (&["c b", "a b c"], "c b a"),
            (&["a a", "a"], "a"),
            (&["files", "files:read"], "files files:read"),
        ];
        for (sets, want) in rows {
            let owned: Vec<Vec<String>> = sets.iter().map(|s| v(s)).collect();
            let refs: Vec<&[String]> = owned.iter().map(Vec::as_slice).collect();
            assert_eq!(union(&refs), v(want), "union({sets:?})");
        }
    }

    #[test]
    fn p14_union_keeps_first_seen_order() {
        assert_eq!(union(&[&v("z y"), &v("a z"), &v("m")]), v("z y a m"));
    }

    #[test]
    fn p14_union_does_not_collapse_hierarchy() {
        assert_eq!(union(&[&v("files:read"), &v("files")]), v("files:read files"));
    }

    #[test]
    fn p14_contains_all_table() {
        let rows: &[(&str, &str, bool)] = &[
            ("", "", true),
            ("a", "", true),
            ("", "a", false),
            ("a b", "b a", true),
            ("a b c", "c a", true),
            ("a b", "a c", false),
            ("a a b", "b b", true),
            ("files", "files:read", false),
        ];
        for (have, want, expected) in rows {
            assert_eq!(
                contains_all(&v(have), &v(want)),
                *expected,
                "contains_all({have:?}, {want:?})"
            );
        }
    }

    #[test]
    fn p14_canonical_ignores_order() {
        assert_eq!(canonical(&v("b c a")), "a b c");
        assert_eq!(canonical(&v("a:x a B")), "B a a:x");
        assert_eq!(canonical(&[]), "");
    }

    #[test]
    fn p14_strict_superset_table() {
        let rows: &[(&str, &str, bool)] = &[
            ("", "", false),
            ("a", "", true),
            ("", "a", false),
            ("a", "a", false),
            ("a b", "b a", false),
            ("a b", "a", true),
            ("b a", "a", true),
            ("a b", "a c", false),
            ("a a", "a", false),
            ("a b b", "a a", true),
            ("files:read files", "files", true),
            ("files:read", "files", false),
        ];
        for (candidate, base, expected) in rows {
            assert_eq!(
                is_strict_superset(&v(candidate), &v(base)),
                *expected,
                "is_strict_superset({candidate:?}, {base:?})"
            );
        }
    }

    #[test]
    fn p13_initial_scope_challenge_wins() {
        let got = initial_scope(&v("c"), &v("app"), &v("prm"), &[]);
        assert_eq!(got, Some(v("c")));
    }

    #[test]
    fn p13_initial_scope_app_scope_when_no_challenge_scope() {
        let got = initial_scope(&[], &v("app"), &v("prm"), &[]);
        assert_eq!(got, Some(v("app")));
    }

    #[test]
    fn p13_initial_scope_prm_when_no_challenge_or_app_scope() {
        let got = initial_scope(&[], &[], &v("prm1 prm2"), &[]);
        assert_eq!(got, Some(v("prm1 prm2")));
    }

    #[test]
    fn p13_initial_scope_none_when_all_empty() {
        assert_eq!(initial_scope(&[], &[], &[], &[]), None);
    }

    #[test]
    fn p13_initial_scope_adds_offline_access_when_as_lists_it() {
        let got = initial_scope(&v("c"), &[], &[], &v("openid offline_access"));
        assert_eq!(got, Some(v("c offline_access")));
    }

    #[test]
    fn p13_initial_scope_no_offline_access_when_as_does_not_list_it() {
        let got = initial_scope(&v("c"), &[], &[], &v("openid c"));
        assert_eq!(got, Some(v("c")));
    }

    #[test]
    fn p13_initial_scope_no_offline_access_when_result_is_none() {
        assert_eq!(initial_scope(&[], &[], &[], &v("offline_access")), None);
    }

    #[test]
    fn p13_initial_scope_does_not_duplicate_offline_access() {
        let got = initial_scope(&v("offline_access c"), &[], &[], &v("offline_access"));
        assert_eq!(got, Some(v("offline_access c")));
    }

    #[test]
    fn p13_initial_scope_dedupes_chosen_set() {
        let got = initial_scope(&[], &[], &v("a b a"), &[]);
        assert_eq!(got, Some(v("a b")));
    }

    #[test]
    fn p14_step_up_scope_orders_previous_then_token_then_challenged() {
        let got = step_up_scope(&v("prev shared"), &v("tok shared"), &v("new prev"));
        assert_eq!(got, v("prev shared tok new"));
    }

    #[test]
    fn p14_step_up_scope_with_token_without_scope() {
        let got = step_up_scope(&v("a"), &[], &v("b"));
        assert_eq!(got, v("a b"));
    }

    #[test]
    fn p14_needs_new_authorization_when_union_adds_scopes() {
        let u = step_up_scope(&v("a"), &v("a"), &v("b"));
        assert!(needs_new_authorization(&u, &v("a")));
    }

    #[test]
    fn p14_no_new_authorization_when_union_equals_token_scope() {
        let u = step_up_scope(&v("a b"), &v("b a"), &v("a"));
        assert!(!needs_new_authorization(&u, &v("b a")));
    }

    #[test]
    fn p14_token_without_scope_counts_as_empty() {
        assert!(needs_new_authorization(&v("a"), &[]));
        assert!(!needs_new_authorization(&[], &[]));
    }

    #[test]
    fn p11_registration_scope_unites_challenge_app_and_prm_in_order() {
        let got = registration_scope(&v("c shared"), &v("app"), &v("shared prm"), &[]);
        assert_eq!(got, v("c shared app prm"));
    }

    #[test]
    fn p11_registration_scope_adds_offline_access_when_as_lists_it() {
        let got = registration_scope(&v("c"), &[], &v("p"), &v("offline_access"));
        assert_eq!(got, v("c p offline_access"));
    }

    #[test]
    fn p11_registration_scope_does_not_duplicate_offline_access() {
        let got = registration_scope(&[], &[], &v("offline_access p"), &v("offline_access"));
        assert_eq!(got, v("offline_access p"));
    }

    #[test]
    fn p11_registration_scope_empty_when_nothing_requested() {
        assert!(registration_scope(&[], &[], &[], &v("offline_access")).is_empty());
        assert!(registration_scope(&[], &[], &[], &[]).is_empty());
    }

    #[test]
    fn p14_reregistration_table() {
        let rows: &[(&str, &str, bool)] = &[
            ("a", "", false),
            ("", "", false),
            ("a", "a b", false),
            ("b a", "a b", false),
            ("a c", "a b", true),
            ("files:read", "files", true),
            ("", "a", false),
        ];
        for (wanted, registered, expected) in rows {
            assert_eq!(
                needs_reregistration(&v(wanted), &v(registered)),
                *expected,
                "needs_reregistration({wanted:?}, {registered:?})"
            );
        }
    }

    /// Small alphabet so that generated sets overlap often.
    fn scopes() -> impl Strategy<Value = Vec<String>> {
        prop::collection::vec("[a-e](:r)?", 0..6)
    }

    /// P-32: 40,000 distinct scopes, with a 20,000-scope overlap. A
    /// quadratic union or inclusion test does some 10^9 string comparisons
    /// here (seconds, or minutes unoptimised); the linear ones finish at
    /// once. The results are asserted, not the time.
    #[test]
    fn p32_forty_thousand_scopes_are_handled_in_linear_time() {
        let started = std::time::Instant::now();
        let names: Vec<String> = (0..40_000).map(|i| format!("scope:{i}")).collect();
        let text = join(&names);
        let parsed = split(&format!("{text} {text}"));
        assert_eq!(parsed, names);
        let (first, second) = (&names[..30_000], &names[10_000..]);
        let u = union(&[first, second]);
        assert_eq!(u, names);
        assert!(contains_all(&u, first) && contains_all(&u, second));
        assert!(is_strict_superset(&u, first));
        assert!(!is_strict_superset(first, &u));
        assert!(!needs_reregistration(&u, &names));
        let mut reversed = names.clone();
        reversed.reverse();
        assert_eq!(canonical(&reversed), canonical(&names));
        let stepped = step_up_scope(&names, &reversed, &names);
        assert_eq!(stepped.len(), 40_000);
        // Generous: the linear version takes milliseconds even unoptimised.
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    proptest! {
        #[test]
        fn p14_prop_union_is_idempotent(a in scopes(), b in scopes()) {
            let once = union(&[&a, &b]);
            prop_assert_eq!(union(&[&once]), once.clone());
            prop_assert_eq!(union(&[&once, &once]), once);
        }

        #[test]
        fn p14_prop_union_contains_every_input(a in scopes(), b in scopes(), c in scopes()) {
            let u = union(&[&a, &b, &c]);
            for s in a.iter().chain(&b).chain(&c) {
                prop_assert!(u.contains(s));
            }
        }

        #[test]
        fn p14_prop_union_has_no_duplicates(a in scopes(), b in scopes()) {
            let u = union(&[&a, &b]);
            let distinct: HashSet<&String> = u.iter().collect();
            prop_assert_eq!(distinct.len(), u.len());
        }

        #[test]
        fn p14_prop_union_includes_first_set(a in scopes(), b in scopes()) {
            prop_assert!(contains_all(&union(&[&a, &b]), &a));
        }

        #[test]
        fn p14_prop_strict_superset_matches_set_definition(a in scopes(), b in scopes()) {
            let (sa, sb): (HashSet<&String>, HashSet<&String>) = (a.iter().collect(), b.iter().collect());
            prop_assert_eq!(is_strict_superset(&a, &b), sa.is_superset(&sb) && sa.len() > sb.len());
        }

        #[test]
        fn p14_prop_canonical_is_the_sorted_join(a in scopes()) {
            let mut sorted = a.clone();
            sorted.sort();
            prop_assert_eq!(canonical(&a), join(&sorted));
        }

        #[test]
        fn p14_prop_strict_superset_is_asymmetric(a in scopes(), b in scopes()) {
            if is_strict_superset(&a, &b) {
                prop_assert!(!is_strict_superset(&b, &a));
            }
        }

        #[test]
        fn p14_prop_split_join_split_is_stable(x in "[ a-c\t\n:]{0,30}") {
            let once = split(&x);
            prop_assert_eq!(split(&join(&once)), once);
        }
    }
}
