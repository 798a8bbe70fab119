//! Binary operators at one step: arithmetic and comparisons between scalars and vectors,
//! vector matching (`on`, `ignoring`, `group_left`, `group_right`) and the set operators.

use std::collections::HashMap;

use promql_parser::parser::token::{
    T_ADD, T_ATAN2, T_DIV, T_EQLC, T_GTE, T_GTR, T_LAND, T_LOR, T_LSS, T_LTE, T_MOD, T_MUL, T_NEQ,
    T_POW, T_SUB, TokenType,
};
use promql_parser::parser::{BinaryExpr, LabelModifier, VectorMatchCardinality};

use super::*;

impl Evaluator {
    pub(super) fn binary(&self, b: &BinaryExpr, t: i64) -> Result<Value, PromqlError> {
        let op = b.op;
        let return_bool = b.modifier.as_ref().is_some_and(|m| m.return_bool);
        let comparison = op.is_comparison_operator();
        let drop = return_bool || !comparison;
        let lhs = self.eval(&b.lhs, t)?;
        let rhs = self.eval(&b.rhs, t)?;
        if op.is_set_operator() {
            return match (lhs, rhs) {
                (Value::Vector(l), Value::Vector(r)) => Ok(Value::Vector(set_op(b, l, r))),
                _ => Err(PromqlError::Execution(format!(
                    "set operator `{op}` needs instant vectors on both sides"
                ))),
            };
        }
        match (lhs, rhs) {
            (Value::Scalar(l), Value::Scalar(r)) => {
                let (v, keep) = apply(&op, l, r)?;
                Ok(Value::Scalar(if comparison {
                    if keep { 1.0 } else { 0.0 }
                } else {
                    v
                }))
            }
            (Value::Vector(l), Value::Scalar(r)) => {
                vector_scalar(&op, l, r, false, return_bool, drop).map(Value::Vector)
            }
            (Value::Scalar(l), Value::Vector(r)) => {
                vector_scalar(&op, r, l, true, return_bool, drop).map(Value::Vector)
            }
            (Value::Vector(l), Value::Vector(r)) => {
                let matching = b.modifier.as_ref().and_then(|m| m.matching.clone());
                let card = b
                    .modifier
                    .as_ref()
                    .map_or(VectorMatchCardinality::OneToOne, |m| m.card.clone());
                let sig = |labels: &Labels| signature(labels, matching.as_ref());
                // The "many" side is iterated; the "one" side is looked up by signature.
                let (many, one, swapped) = match &card {
                    VectorMatchCardinality::OneToMany(_) => (r, l, true),
                    _ => (l, r, false),
                };
                let mut lookup: HashMap<Vec<(String, String)>, Sample> = HashMap::new();
                for s in one {
                    let key = sig(&s.labels);
                    if lookup.contains_key(&key) {
                        return Err(PromqlError::Execution(format!(
                            "found duplicate series for the match group {} on the {} hand-side of the operation; many-to-many matching not allowed: matching labels must be unique on one side",
                            fmt_labels(&s.labels),
                            if swapped { "left" } else { "right" }
                        )));
                    }
                    lookup.insert(key, s);
                }
                let mut seen = std::collections::HashSet::new();
                let mut out = Vec::new();
                for s in many {
                    let key = sig(&s.labels);
                    let Some(other) = lookup.get(&key) else {
                        continue;
                    };
                    if matches!(card, VectorMatchCardinality::OneToOne) && !seen.insert(key) {
                        return Err(PromqlError::Execution(format!(
                            "multiple matches for labels {}: many-to-one matching must be explicit (group_left/group_right)",
                            fmt_labels(&s.labels)
                        )));
                    }
                    let (vl, vr) = if swapped {
                        (other.value, s.value)
                    } else {
                        (s.value, other.value)
                    };
                    let (v, keep) = apply(&op, vl, vr)?;
                    let value = if return_bool {
                        if keep { 1.0 } else { 0.0 }
                    } else if !keep {
                        continue;
                    } else {
                        v
                    };
                    let mut labels = if drop { drop_name(s.labels) } else { s.labels };
                    match (&card, &matching) {
                        (VectorMatchCardinality::OneToOne, Some(LabelModifier::Include(on))) => {
                            Arc::make_mut(&mut labels).retain(|k, _| on.labels.contains(k));
                        }
                        (VectorMatchCardinality::OneToOne, Some(LabelModifier::Exclude(ign))) => {
                            Arc::make_mut(&mut labels).retain(|k, _| !ign.labels.contains(k));
                        }
                        (
                            VectorMatchCardinality::ManyToOne(include)
                            | VectorMatchCardinality::OneToMany(include),
                            _,
                        ) => {
                            // group_left(x): x comes from the "one" side.
                            for name in &include.labels {
                                match other.labels.get(name).filter(|v| !v.is_empty()) {
                                    Some(v) => {
                                        Arc::make_mut(&mut labels).insert(name.clone(), v.clone())
                                    }
                                    None => Arc::make_mut(&mut labels).remove(name),
                                };
                            }
                        }
                        _ => {}
                    }
                    if !matches!(card, VectorMatchCardinality::OneToOne)
                        && !seen.insert((*labels).clone().into_iter().collect())
                    {
                        return Err(PromqlError::Execution(format!(
                            "multiple matches for labels {}: grouping labels must ensure unique matches",
                            fmt_labels(&labels)
                        )));
                    }
                    out.push(Sample { labels, value });
                }
                Ok(Value::Vector(out))
            }
            _ => Err(PromqlError::Execution(format!(
                "operator `{op}` needs scalar or instant vector operands"
            ))),
        }
    }
}

/// Vector-matching signature: the `on` labels, or all but `ignoring`'s and `__name__`.
fn signature(labels: &Labels, matching: Option<&LabelModifier>) -> Vec<(String, String)> {
    labels
        .iter()
        .filter(|(k, _)| match matching {
            Some(LabelModifier::Include(on)) => on.labels.contains(k),
            Some(LabelModifier::Exclude(ign)) => *k != NAME && !ign.labels.contains(k),
            None => *k != NAME,
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// `and`, `or`, `unless`: many-to-many, the left side's samples unchanged.
fn set_op(b: &BinaryExpr, l: Vec<Sample>, r: Vec<Sample>) -> Vec<Sample> {
    let matching = b.modifier.as_ref().and_then(|m| m.matching.as_ref());
    let op = b.op.id();
    if op == T_LOR {
        let left: std::collections::HashSet<_> =
            l.iter().map(|s| signature(&s.labels, matching)).collect();
        let mut out = l;
        out.extend(
            r.into_iter()
                .filter(|s| !left.contains(&signature(&s.labels, matching))),
        );
        return out;
    }
    let right: std::collections::HashSet<_> =
        r.iter().map(|s| signature(&s.labels, matching)).collect();
    let want = op == T_LAND;
    l.into_iter()
        .filter(|s| right.contains(&signature(&s.labels, matching)) == want)
        .collect()
}

fn vector_scalar(
    op: &TokenType,
    v: Vec<Sample>,
    s: f64,
    scalar_left: bool,
    return_bool: bool,
    drop: bool,
) -> Result<Vec<Sample>, PromqlError> {
    let mut out = Vec::with_capacity(v.len());
    for sample in v {
        let (l, r) = if scalar_left {
            (s, sample.value)
        } else {
            (sample.value, s)
        };
        let (mut value, keep) = apply(op, l, r)?;
        if op.is_comparison_operator() {
            // The vector's value is kept, whichever side it is on.
            value = sample.value;
        }
        if return_bool {
            value = if keep { 1.0 } else { 0.0 };
        } else if !keep {
            continue;
        }
        out.push(Sample {
            labels: if drop {
                drop_name(sample.labels)
            } else {
                sample.labels
            },
            value,
        });
    }
    if drop { unique(out) } else { Ok(out) }
}

/// `(value, keep)` of `l op r`, as Prometheus's `vectorElemBinop`.
fn apply(op: &TokenType, l: f64, r: f64) -> Result<(f64, bool), PromqlError> {
    Ok(match op.id() {
        x if x == T_ADD => (l + r, true),
        x if x == T_SUB => (l - r, true),
        x if x == T_MUL => (l * r, true),
        x if x == T_DIV => (l / r, true),
        x if x == T_MOD => (l % r, true),
        x if x == T_POW => (l.powf(r), true),
        x if x == T_ATAN2 => (l.atan2(r), true),
        x if x == T_EQLC => (l, l == r),
        x if x == T_NEQ => (l, l != r),
        x if x == T_GTR => (l, l > r),
        x if x == T_LSS => (l, l < r),
        x if x == T_GTE => (l, l >= r),
        x if x == T_LTE => (l, l <= r),
        _ => return Err(PromqlError::Unsupported(format!("operator `{op}`"))),
    })
}
