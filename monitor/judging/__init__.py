"""Pure judgement, the clock passed in: policy, classify, decide, renames, groups, findings, schedule."""
