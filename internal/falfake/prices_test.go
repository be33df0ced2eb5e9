package falfake

import "testing"

// TestListPricesAreBillable: every list price names an endpoint the
// emulator serves, in a unit its bill counts, so that the demo's ledger
// and the emulator's bill agree on every model.
func TestListPricesAreBillable(t *testing.T) {
	f, _ := start(t, Options{})
	for endpoint, p := range ListPrices {
		if _, served := f.models[endpoint]; !served && endpoint != openAIApp {
			t.Errorf("%s: not an endpoint the emulator serves", endpoint)
		}
		_, tokens := tokensPerUnit(p.Unit)
		if _, counted := f.billedUnits(p.Unit, nil, node{}, []byte("{}")); !tokens && !counted {
			t.Errorf("%s: the bill does not count %q", endpoint, p.Unit)
		}
	}
}
