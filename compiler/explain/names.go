package explain

// Names lists every WHAT that Explain answers for in, in order: clusters,
// namespaces, then objects. Shell completion offers them.
func Names(in Input) []string {
	return newExplainer(in).allNames()
}
