package config

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadDotEnv(t *testing.T) {
	path := writeFile(t, `# falproxy settings
export CUSTOM_ACCESS_KEY=client-key
AI_KEYS="id1:secret1, id2:secret2"   
SUPPORTED_MODELS='flux-dev:fal-ai/flux/dev' # trailing comment
PORT=9000 # the port
PROMPT_SEPARATOR="\n--\n"
RAW_SEPARATOR='\n--\n'
HASH_IN_VALUE=abc#def
EMPTY=
   # indented comment
LOG_FORMAT = json
WINDOWS=crlf`+"\r\n")
	got, err := LoadDotEnv(path)
	if err != nil {
		t.Fatalf("LoadDotEnv: %v", err)
	}
	want := map[string]string{
		"CUSTOM_ACCESS_KEY": "client-key",
		"AI_KEYS":           "id1:secret1, id2:secret2",
		"SUPPORTED_MODELS":  "flux-dev:fal-ai/flux/dev",
		"PORT":              "9000",
		"PROMPT_SEPARATOR":  "\n--\n",
		"RAW_SEPARATOR":     `\n--\n`,
		"HASH_IN_VALUE":     "abc#def",
		"EMPTY":             "",
		"LOG_FORMAT":        "json",
		"WINDOWS":           "crlf",
	}
	if !maps.Equal(got, want) {
		t.Errorf("LoadDotEnv\n got %q\nwant %q", got, want)
	}
}

func TestLoadDotEnvMissingFile(t *testing.T) {
	got, err := LoadDotEnv(filepath.Join(t.TempDir(), "absent.env"))
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("LoadDotEnv(missing) = %v, %v; want an empty map and no error", got, err)
	}
}

func TestLoadDotEnvUnreadable(t *testing.T) {
	dir := t.TempDir()
	_, err := LoadDotEnv(dir) // a directory opens but cannot be read
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("LoadDotEnv(directory) error = %v, want one naming %s", err, dir)
	}
}

func TestLoadDotEnvSyntaxErrorHidesContent(t *testing.T) {
	tests := []struct{ name, content, secret string }{
		{"unterminated quote", "AI_KEYS=\"zq-secret-5150\n", "zq-secret-5150"},
		{"bad name", "zq-secret-6160!=x\n", "zq-secret-6160"},
		{"key pasted alone", "PORT=1\nzq secret 7170\n", "zq secret 7170"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.content)
			_, err := LoadDotEnv(path)
			if err == nil {
				t.Fatal("LoadDotEnv accepted a malformed file")
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q quotes the file", err)
			}
			if errors.Unwrap(err) == nil {
				t.Error("the parser's error is not wrapped")
			}
		})
	}
}

func TestLookup(t *testing.T) {
	dotenv := map[string]string{"A": "file-a", "B": "file-b", "C": "file-c"}
	environ := map[string]string{"A": "env-a", "B": "", "D": "env-d", "C": "  "}
	getenv := Lookup(dotenv, func(k string) (string, bool) { v, ok := environ[k]; return v, ok })
	tests := []struct{ name, want string }{
		{"A", "env-a"},  // the environment wins
		{"B", "file-b"}, // an empty environment value does not hide the file
		{"C", "file-c"}, // nor does one made of spaces
		{"D", "env-d"},
		{"E", ""},
	}
	for _, tt := range tests {
		if got := getenv(tt.name); got != tt.want {
			t.Errorf("getenv(%s) = %q, want %q", tt.name, got, tt.want)
		}
	}
	if got := Lookup(dotenv, nil)("A"); got != "file-a" {
		t.Errorf("without environment getenv(A) = %q, want file-a", got)
	}
}

// TestDotEnvThroughLoad runs the whole path cmd takes: a .env file, the
// environment on top, Load.
func TestDotEnvThroughLoad(t *testing.T) {
	path := writeFile(t, `API_KEY=from-file-0123456789
FAL_KEY=id:from-file
PORT=9000
export DEBUG_MODE=yes
`)
	dotenv, err := LoadDotEnv(path)
	if err != nil {
		t.Fatal(err)
	}
	environ := map[string]string{"PORT": "9100", "FAL_KEY": "id:from-env"}
	c, err := Load(Lookup(dotenv, func(k string) (string, bool) { v, ok := environ[k]; return v, ok }))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Port != 9100 || c.FalKeys[0] != "id:from-env" || c.AccessKeys[0] != "from-file-0123456789" || !c.Debug {
		t.Errorf("got port %d, fal keys %v, access keys %v, debug %v", c.Port, c.FalKeys, c.AccessKeys, c.Debug)
	}
}
