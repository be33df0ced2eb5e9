package config

import "testing"

// disguise maps letters by rot13 and digits by +5, byte by byte. It is
// one-to-one (also on invalid UTF-8) and keeps spaces, commas and control
// characters, so a key list keeps its shape (entries, repeats, spaces) while
// every key changes.
func disguise(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = 'a' + (c-'a'+13)%26
		case c >= 'A' && c <= 'Z':
			b[i] = 'A' + (c-'A'+13)%26
		case c >= '0' && c <= '9':
			b[i] = '0' + (c-'0'+5)%10
		}
	}
	return string(b)
}

// FuzzSecretsNotEchoed checks that problems with the secret variables depend
// only on the shape of their values: disguising the keys must not change the
// error text. Any message that quoted a key would differ.
func FuzzSecretsNotEchoed(f *testing.F) {
	f.Add("client-key", "k1,k2")
	f.Add("a b", "k1,k1")
	f.Add("", " , ")
	f.Add("x\ty,x", "id:secret,id:secret 2")
	f.Fuzz(func(t *testing.T, access, fal string) {
		load := func(access, fal string) string {
			_, err := Load(func(name string) string {
				switch name {
				case envAccessKeys:
					return access
				case envFalKeys:
					return fal
				}
				return ""
			})
			if err == nil {
				return ""
			}
			return err.Error()
		}
		plain, hidden := load(access, fal), load(disguise(access), disguise(fal))
		if plain != hidden {
			t.Fatalf("error text depends on key values:\n%s\n---\n%s", plain, hidden)
		}
	})
}

func TestDisguiseKeepsShape(t *testing.T) {
	if got := disguise("ab,Z9 x\t"); got != "no,M4 k\t" {
		t.Errorf("disguise = %q", got)
	}
}
