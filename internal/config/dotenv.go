package config

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/joho/godotenv"
)

// LoadDotEnv reads the variables of a .env file: KEY=value lines, # comments,
// single or double quotes (double quotes expand \n and ${OTHER} references to
// earlier variables of the same file; single quotes keep the text as is) and
// an optional "export " prefix. A missing file gives an empty map and no
// error, since the environment alone may configure everything.
//
// A syntax error is reported without the parser's own message, which quotes
// the offending text and could therefore print a key; the parser's error is
// still available through errors.Unwrap.
func LoadDotEnv(path string) (map[string]string, error) {
	vars, err := godotenv.Read(path)
	var pathErr *fs.PathError
	switch {
	case err == nil:
		return vars, nil
	case errors.Is(err, fs.ErrNotExist):
		return map[string]string{}, nil
	case errors.As(err, &pathErr):
		return nil, fmt.Errorf("config: reading %s: %w", path, err)
	default:
		return nil, &syntaxError{path: path, err: err}
	}
}

// syntaxError is a .env file the parser rejected. Its message names the file
// and the likely causes but hides the parser's text.
type syntaxError struct {
	path string
	err  error
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("config: %s is not a valid .env file: look for an unterminated quote "+
		"or a variable name with characters other than letters, digits, _ and .", e.path)
}

func (e *syntaxError) Unwrap() error { return e.err }

// Lookup combines a .env map and the process environment (usually
// os.LookupEnv) into the getenv function Load takes. A variable set in the
// environment to something other than white space wins over the .env file;
// an empty one does not hide the file's value, so that a container that
// passes every variable through, set or not, still honours its .env file.
func Lookup(dotenv map[string]string, environ func(string) (string, bool)) func(string) string {
	return func(name string) string {
		if environ != nil {
			if v, ok := environ(name); ok && strings.TrimSpace(v) != "" {
				return v
			}
		}
		return dotenv[name]
	}
}
