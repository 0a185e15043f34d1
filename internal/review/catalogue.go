package review

// RuleInfo describes a safety rule of the builtin reviewer, for the
// catalogue (skillvault review rules, REVIEW.md).
type RuleInfo struct {
	ID       string `json:"id"`
	Severity string `json:"severity"` // at most; weighed by place (see Policy text in REVIEW.md)
	Threat   string `json:"threat"`
	Finds    string `json:"finds"`
	Advice   string `json:"advice"`
}

// safetyCatalogue lists every safety rule once, in catalogue order.
var safetyCatalogue = []*rule{
	ruleExfil, ruleCreds, rulePipe, ruleRemoteEval, ruleBackdoor, ruleReverseShell, ruleObfuscated, ruleBlob,
	rulePersist, ruleDestructive, ruleRmRoot, ruleRmVar, ruleInjection,
	ruleTags, ruleBidi, ruleZW, ruleEICAR,
	rulePrivateKey, ruleAWSKey, ruleAWSSecret, ruleToken, ruleGenericSecret, ruleBearer, ruleTLS,
}

// Rules returns the safety rules of the builtin reviewer.
func Rules() []RuleInfo {
	out := make([]RuleInfo, len(safetyCatalogue))
	for i, r := range safetyCatalogue {
		out[i] = RuleInfo{ID: r.id, Severity: r.severity, Threat: r.threat, Finds: r.doc, Advice: r.suggestion}
	}
	return out
}
