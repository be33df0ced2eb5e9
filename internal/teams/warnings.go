package teams

import "fmt"

// UnservedModels are warnings for the aliases of a key's model list that
// serves says it does not serve. The key keeps them (another replica, or
// this one after a configuration change, may serve them), but a typo or
// an alias of another configuration would otherwise leave the key unable
// to use the model without a word.
func UnservedModels(spec KeySpec, serves func(alias string) bool) []string {
	if spec.Models == nil {
		return nil
	}
	var out []string
	for _, m := range *spec.Models {
		if m != "" && !serves(m) {
			out = append(out, fmt.Sprintf("The model %q is not served here: requests for it get 404 model_not_found unless another falproxy serves it.", m))
		}
	}
	return out
}
