package deploy

import (
	"bufio"
	"bytes"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fleetProfile is the Compose profile of the replicas and what they share.
const fleetProfile = "fleet"

// composeService is the part of a Compose service these tests read.
type composeService struct {
	Profiles        []string          `yaml:"profiles"`
	Image           string            `yaml:"image"`
	Build           string            `yaml:"build"`
	EnvFile         string            `yaml:"env_file"`
	Environment     map[string]string `yaml:"environment"`
	Ports           []string          `yaml:"ports"`
	Volumes         []string          `yaml:"volumes"`
	ReadOnly        bool              `yaml:"read_only"`
	StopGracePeriod string            `yaml:"stop_grace_period"`
	DependsOn       map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Healthcheck *struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
}

// loadCompose reads compose.yaml as Compose does with none of its
// variables set.
func loadCompose(t *testing.T) map[string]composeService {
	t.Helper()
	var file struct {
		Services map[string]composeService `yaml:"services"`
	}
	docs := decodeDocuments(t, "compose.yaml", interpolateUnset(readRepoFile(t, "compose.yaml")))
	decodeInto(t, "compose.yaml", docs[0], &file)
	return file.Services
}

// single is the service `docker compose up` starts without a profile.
const single = "falproxy"

func TestComposeDefaultIsOneFalproxy(t *testing.T) {
	services := loadCompose(t)
	var always []string
	for name, s := range services {
		if len(s.Profiles) == 0 {
			always = append(always, name)
		}
	}
	slices.Sort(always)
	if !slices.Equal(always, []string{single}) {
		t.Errorf("services without a profile: %v, want only %s", always, single)
	}
	s := services[single]
	checkKnownVariables(t, single, slices.Collect(maps.Keys(s.Environment)))
	mustLoadConfig(t, single, s.Environment)
}

// fleet is compose.yaml's fleet profile, read and checked.
type fleet struct {
	services map[string]composeService
	replicas []string // the falproxy services, sorted
	lb       string   // the service that publishes a port
}

func loadFleet(t *testing.T) fleet {
	t.Helper()
	f := fleet{services: loadCompose(t)}
	image := f.services[single].Image
	for _, name := range slices.Sorted(maps.Keys(f.services)) {
		s := f.services[name]
		if !slices.Contains(s.Profiles, fleetProfile) {
			continue
		}
		if s.Image == image {
			f.replicas = append(f.replicas, name)
		}
		if len(s.Ports) > 0 {
			if f.lb != "" {
				t.Fatalf("%s and %s both publish ports; only the load balancer should", f.lb, name)
			}
			f.lb = name
		}
	}
	if len(f.replicas) != 3 {
		t.Fatalf("the fleet profile runs %d falproxy services (%v), want 3", len(f.replicas), f.replicas)
	}
	if f.lb == "" || slices.Contains(f.replicas, f.lb) {
		t.Fatalf("the fleet profile has no load balancer publishing a port apart from the replicas")
	}
	return f
}

// sharedService checks that rawURL, the value of variable, names a
// service of the fleet profile with a health check, and returns its name.
func (f fleet) sharedService(t *testing.T, variable, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("%s: %v", variable, err)
	}
	name := u.Hostname()
	s, ok := f.services[name]
	if !ok || !slices.Contains(s.Profiles, fleetProfile) {
		t.Fatalf("%s points at %q, which is no service of the fleet profile", variable, name)
	}
	if s.Healthcheck == nil || len(s.Healthcheck.Test) == 0 {
		t.Errorf("%s points at %s, which has no health check to wait on", variable, name)
	}
	return name
}

func TestComposeFleetReplicas(t *testing.T) {
	f := loadFleet(t)
	first := f.services[f.replicas[0]].Environment
	for _, name := range f.replicas {
		s := f.services[name]
		env := s.Environment
		checkKnownVariables(t, name, slices.Collect(maps.Keys(env)))
		for _, variable := range []string{"DATABASE_URL", "REDIS_URL"} {
			if env[variable] != first[variable] {
				t.Errorf("%s: %s %q, want the same on every replica", name, variable, env[variable])
			}
			shared := f.sharedService(t, variable, env[variable])
			if s.DependsOn[shared].Condition != "service_healthy" {
				t.Errorf("%s does not wait for %s to be healthy", name, shared)
			}
		}
		if env["REPLICAS"] != strconv.Itoa(len(f.replicas)) {
			t.Errorf("%s: REPLICAS=%q, want %d", name, env["REPLICAS"], len(f.replicas))
		}
		cfg := mustLoadConfig(t, name, env)
		if !strings.HasPrefix(cfg.DatabaseURL, "postgres://") {
			t.Errorf("%s: DATABASE_URL is not Postgres; SQLite serves one machine", name)
		}
		stop, err := time.ParseDuration(s.StopGracePeriod)
		if err != nil {
			t.Errorf("%s: stop_grace_period %q: %v", name, s.StopGracePeriod, err)
		}
		checkStopTime(t, name+": stop_grace_period", stop, cfg.ShutdownGrace)
		if s.Build != f.services[single].Build {
			t.Errorf("%s: build %q, want the single service's %q", name, s.Build, f.services[single].Build)
		}
		if s.EnvFile != ".env" || !s.ReadOnly || len(s.Ports) > 0 {
			t.Errorf("%s: env_file %q, read_only %v, ports %v: want .env, a read-only root and no port of its own", name, s.EnvFile, s.ReadOnly, s.Ports)
		}
	}
	database := f.sharedService(t, "DATABASE_URL", first["DATABASE_URL"])
	if len(f.services[database].Volumes) == 0 {
		t.Errorf("%s keeps its data in no volume", database)
	}
}

func TestComposeFleetLoadBalancer(t *testing.T) {
	f := loadFleet(t)
	lb := f.services[f.lb]
	if !slices.Equal(lb.Ports, f.services[single].Ports) {
		t.Errorf("%s publishes %v, want %v as the single service does, so that clients keep their URL", f.lb, lb.Ports, f.services[single].Ports)
	}
	if lb.Healthcheck == nil {
		t.Errorf("%s has no health check", f.lb)
	}
	var want []string
	for _, name := range f.replicas {
		// Started, not healthy: Compose would hold the load balancer
		// back while any one replica is unhealthy, and Caddy's own health
		// checks keep the traffic off those that are.
		if c := f.services[f.lb].DependsOn[name].Condition; c != "service_started" {
			t.Errorf("%s waits for %s to be %q, want service_started", f.lb, name, c)
		}
		cfg := mustLoadConfig(t, name, f.services[name].Environment)
		want = append(want, name+":"+strconv.Itoa(cfg.Port))
	}

	caddyfile := mountedRepoFile(t, lb, "/etc/caddy/Caddyfile")
	upstreams, block := reverseProxy(t, readRepoFile(t, caddyfile))
	if !slices.Equal(slices.Sorted(slices.Values(upstreams)), want) {
		t.Errorf("%s proxies to %v, want every replica: %v", caddyfile, upstreams, want)
	}
	for _, setting := range []string{"health_uri /health", "flush_interval -1"} {
		if !slices.Contains(block, setting) {
			t.Errorf("%s lacks %q", caddyfile, setting)
		}
	}
}

// mountedRepoFile is the file of the repository that s mounts at target.
func mountedRepoFile(t *testing.T, s composeService, target string) string {
	t.Helper()
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && parts[1] == target {
			return strings.TrimPrefix(parts[0], "./")
		}
	}
	t.Fatalf("nothing is mounted at %s", target)
	return ""
}

// reverseProxy finds the one reverse_proxy directive of a Caddyfile and
// returns its upstreams and the lines of its block, without comments.
func reverseProxy(t *testing.T, caddyfile []byte) (upstreams, block []string) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(caddyfile))
	depth := -1 // the brace depth of the reverse_proxy block, once in it
	level := 0
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.Join(strings.Fields(line), " ")
		if rest, ok := strings.CutPrefix(line, "reverse_proxy "); ok {
			if upstreams != nil {
				t.Fatal("more than one reverse_proxy")
			}
			upstreams = strings.Fields(strings.TrimSuffix(rest, "{"))
			depth = level
		} else if depth >= 0 && level > depth && line != "" {
			block = append(block, line)
		}
		level += strings.Count(line, "{") - strings.Count(line, "}")
		if depth >= 0 && level <= depth {
			depth = -1
		}
	}
	if upstreams == nil {
		t.Fatal("no reverse_proxy")
	}
	return upstreams, block
}
