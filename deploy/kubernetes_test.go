package deploy

import (
	"maps"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// kubernetesDir holds the manifests, listed by its kustomization.yaml.
const kubernetesDir = "deploy/kubernetes"

// placeholder starts every value of the committed Secret.
const placeholder = "REPLACE_ME"

// object is what every Kubernetes object has.
type object struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name      string            `yaml:"name"`
		Namespace string            `yaml:"namespace"`
		Labels    map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
}

// manifest is one object with the file it is in and its whole YAML.
type manifest struct {
	object
	file string
	node *yaml.Node
}

// labelSelector is the matchLabels form of a selector.
type labelSelector struct {
	MatchLabels map[string]string `yaml:"matchLabels"`
}

// deployment is the part of an apps/v1 Deployment these tests read.
type deployment struct {
	Spec struct {
		Selector labelSelector `yaml:"selector"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec struct {
				TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
				SecurityContext               struct {
					RunAsNonRoot bool `yaml:"runAsNonRoot"`
					RunAsUser    int  `yaml:"runAsUser"`
				} `yaml:"securityContext"`
				Containers []container `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

// container is the part of a Deployment's container these tests read.
type container struct {
	Name  string `yaml:"name"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	EnvFrom []struct {
		ConfigMapRef *struct {
			Name string `yaml:"name"`
		} `yaml:"configMapRef"`
		SecretRef *struct {
			Name string `yaml:"name"`
		} `yaml:"secretRef"`
	} `yaml:"envFrom"`
	Env []struct {
		Name      string `yaml:"name"`
		ValueFrom *struct {
			SecretKeyRef *struct {
				Name string `yaml:"name"`
				Key  string `yaml:"key"`
			} `yaml:"secretKeyRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	Lifecycle      struct {
		PreStop *struct {
			Sleep *struct {
				Seconds int `yaml:"seconds"`
			} `yaml:"sleep"`
		} `yaml:"preStop"`
	} `yaml:"lifecycle"`
	Resources struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	SecurityContext struct {
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   bool  `yaml:"readOnlyRootFilesystem"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
		} `yaml:"capabilities"`
	} `yaml:"securityContext"`
}

// probe is an HTTP probe; its port is a number or a port's name.
type probe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

// kubernetesObjects reads every manifest that kustomization.yaml lists,
// checking that it lists exactly the YAML files beside it.
func kubernetesObjects(t *testing.T) []manifest {
	t.Helper()
	var kustomization struct {
		Resources []string `yaml:"resources"`
	}
	name := path.Join(kubernetesDir, "kustomization.yaml")
	decodeInto(t, name, decodeDocuments(t, name, readRepoFile(t, name))[0], &kustomization)
	entries, err := os.ReadDir("../" + kubernetesDir)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".yaml") && e.Name() != "kustomization.yaml" {
			files = append(files, e.Name())
		}
	}
	listed := slices.Sorted(slices.Values(kustomization.Resources))
	if !slices.Equal(listed, files) {
		t.Fatalf("kustomization.yaml lists %v, the folder holds %v", listed, files)
	}
	var all []manifest
	for _, file := range files {
		name := path.Join(kubernetesDir, file)
		for _, doc := range decodeDocuments(t, name, readRepoFile(t, name)) {
			m := manifest{file: name, node: doc}
			decodeInto(t, name, doc, &m.object)
			all = append(all, m)
		}
	}
	return all
}

// kubernetesSet is the manifests by kind, each kind expected once.
type kubernetesSet map[string]manifest

func loadKubernetes(t *testing.T) kubernetesSet {
	t.Helper()
	set := kubernetesSet{}
	for _, m := range kubernetesObjects(t) {
		if _, dup := set[m.Kind]; dup {
			t.Fatalf("%s: a second %s; these tests expect one of each kind", m.file, m.Kind)
		}
		set[m.Kind] = m
	}
	return set
}

// decode decodes the object of kind into out, failing when there is none.
func (s kubernetesSet) decode(t *testing.T, kind string, out any) manifest {
	t.Helper()
	m, ok := s[kind]
	if !ok {
		t.Fatalf("no %s among the manifests", kind)
	}
	decodeInto(t, m.file, m.node, out)
	return m
}

// theContainer is the Deployment's one container.
func theContainer(t *testing.T, d *deployment) *container {
	t.Helper()
	cs := d.Spec.Template.Spec.Containers
	if len(cs) != 1 {
		t.Fatalf("the Deployment has %d containers, want 1", len(cs))
	}
	return &cs[0]
}

// configMapEnv is the ConfigMap's data, which the pods get as environment.
func configMapEnv(t *testing.T, s kubernetesSet) map[string]string {
	t.Helper()
	var cm struct {
		Data map[string]string `yaml:"data"`
	}
	s.decode(t, "ConfigMap", &cm)
	return cm.Data
}

func TestKubernetesObjectsAreComplete(t *testing.T) {
	all := kubernetesObjects(t)
	var namespace string
	for _, m := range all {
		if m.APIVersion == "" || m.Kind == "" || m.Metadata.Name == "" {
			t.Errorf("%s: apiVersion %q, kind %q, metadata.name %q: all three are needed", m.file, m.APIVersion, m.Kind, m.Metadata.Name)
		}
		if m.Kind == "Namespace" {
			namespace = m.Metadata.Name
		}
	}
	for _, m := range all {
		if m.Kind != "Namespace" && m.Metadata.Namespace != namespace {
			t.Errorf("%s: %s %s is in namespace %q, want the Namespace's %q", m.file, m.Kind, m.Metadata.Name, m.Metadata.Namespace, namespace)
		}
	}
	kinds := map[string]string{}
	for _, m := range all {
		kinds[m.Kind] = m.APIVersion
	}
	want := map[string]string{
		"Namespace": "v1", "Secret": "v1", "ConfigMap": "v1", "Service": "v1",
		"Deployment": "apps/v1", "HorizontalPodAutoscaler": "autoscaling/v2", "PodDisruptionBudget": "policy/v1",
	}
	for kind, apiVersion := range want {
		if kinds[kind] != apiVersion {
			t.Errorf("%s: apiVersion %q, want %q", kind, kinds[kind], apiVersion)
		}
	}
}

// selects reports whether selector picks pods labelled labels.
func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func TestKubernetesObjectsFindTheDeployment(t *testing.T) {
	s := loadKubernetes(t)
	var d deployment
	dm := s.decode(t, "Deployment", &d)
	pods := d.Spec.Template.Metadata.Labels
	if !selects(d.Spec.Selector.MatchLabels, pods) {
		t.Errorf("the Deployment's selector %v does not pick its own pods %v", d.Spec.Selector.MatchLabels, pods)
	}
	// The autoscaler owns the count (its minReplicas is checked below): a
	// count in the Deployment would reset it at each apply.
	var raw struct {
		Spec map[string]any `yaml:"spec"`
	}
	decodeInto(t, dm.file, dm.node, &raw)
	if n, ok := raw.Spec["replicas"]; ok {
		t.Errorf("the Deployment sets replicas: %v, which fights the autoscaler; leave the count to it", n)
	}

	var svc struct {
		Spec struct {
			Selector map[string]string `yaml:"selector"`
			Ports    []struct {
				TargetPort string `yaml:"targetPort"`
			} `yaml:"ports"`
		} `yaml:"spec"`
	}
	s.decode(t, "Service", &svc)
	if !selects(svc.Spec.Selector, pods) {
		t.Errorf("the Service's selector %v does not pick the pods %v", svc.Spec.Selector, pods)
	}
	c := theContainer(t, &d)
	for _, p := range svc.Spec.Ports {
		if _, ok := containerPort(c, p.TargetPort); !ok {
			t.Errorf("the Service sends to port %q, which the container does not have", p.TargetPort)
		}
	}

	var pdb struct {
		Spec struct {
			Selector       labelSelector `yaml:"selector"`
			MinAvailable   string        `yaml:"minAvailable"`
			MaxUnavailable string        `yaml:"maxUnavailable"`
		} `yaml:"spec"`
	}
	s.decode(t, "PodDisruptionBudget", &pdb)
	if !selects(pdb.Spec.Selector.MatchLabels, pods) {
		t.Errorf("the PodDisruptionBudget's selector %v does not pick the pods %v", pdb.Spec.Selector.MatchLabels, pods)
	}
	if pdb.Spec.MinAvailable == "" && pdb.Spec.MaxUnavailable == "" {
		t.Error("the PodDisruptionBudget sets neither minAvailable nor maxUnavailable")
	}

	var hpa struct {
		Spec struct {
			ScaleTargetRef struct {
				APIVersion string `yaml:"apiVersion"`
				Kind       string `yaml:"kind"`
				Name       string `yaml:"name"`
			} `yaml:"scaleTargetRef"`
			MinReplicas int `yaml:"minReplicas"`
			MaxReplicas int `yaml:"maxReplicas"`
			Metrics     []struct {
				Resource struct {
					Name string `yaml:"name"`
				} `yaml:"resource"`
			} `yaml:"metrics"`
		} `yaml:"spec"`
	}
	s.decode(t, "HorizontalPodAutoscaler", &hpa)
	ref := hpa.Spec.ScaleTargetRef
	if ref.APIVersion != dm.APIVersion || ref.Kind != dm.Kind || ref.Name != dm.Metadata.Name {
		t.Errorf("the autoscaler scales %s %s %s, want %s %s %s", ref.APIVersion, ref.Kind, ref.Name, dm.APIVersion, dm.Kind, dm.Metadata.Name)
	}
	if hpa.Spec.MinReplicas < 2 || hpa.Spec.MaxReplicas < hpa.Spec.MinReplicas {
		t.Errorf("the autoscaler keeps %d to %d replicas, want at least 2, and a maximum no lower", hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas)
	}
	// A pod that starts while Redis is down has counted no fleet: it
	// takes its share of the fewest pods that run.
	if got := configMapEnv(t, s)["REPLICAS"]; got != strconv.Itoa(hpa.Spec.MinReplicas) {
		t.Errorf("the ConfigMap sets REPLICAS=%q, want the autoscaler's minimum %d", got, hpa.Spec.MinReplicas)
	}
	if len(hpa.Spec.Metrics) == 0 || hpa.Spec.Metrics[0].Resource.Name != "cpu" {
		t.Error("the autoscaler does not follow CPU")
	}
	if c.Resources.Requests["cpu"] == "" {
		t.Error("the container requests no CPU, which the autoscaler's utilization is a share of")
	}
}

// containerPort is the number of the container's port named or numbered
// ref.
func containerPort(c *container, ref string) (int, bool) {
	for _, p := range c.Ports {
		if ref == p.Name || ref == strconv.Itoa(p.ContainerPort) {
			return p.ContainerPort, true
		}
	}
	return 0, false
}

func TestKubernetesProbesAndTermination(t *testing.T) {
	s := loadKubernetes(t)
	var d deployment
	s.decode(t, "Deployment", &d)
	c := theContainer(t, &d)
	cfg := mustLoadConfig(t, "the ConfigMap", configMapEnv(t, s))

	for name, p := range map[string]*probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
		if p == nil || p.HTTPGet == nil {
			t.Errorf("no HTTP %s probe", name)
			continue
		}
		if p.HTTPGet.Path != "/health" {
			t.Errorf("the %s probe asks %s, want /health", name, p.HTTPGet.Path)
		}
		if port, ok := containerPort(c, p.HTTPGet.Port); !ok || port != cfg.Port {
			t.Errorf("the %s probe asks port %q, want the container port falproxy listens on, %d", name, p.HTTPGet.Port, cfg.Port)
		}
	}

	if c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil || c.Lifecycle.PreStop.Sleep.Seconds <= 0 {
		t.Fatal("no preStop sleep: the pod would stop accepting before the Service stops sending to it")
	}
	preStop := time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
	grace := time.Duration(d.Spec.Template.Spec.TerminationGracePeriodSeconds) * time.Second
	checkStopTime(t, "terminationGracePeriodSeconds less the preStop sleep", grace-preStop, cfg.ShutdownGrace)

	pod := d.Spec.Template.Spec.SecurityContext
	if !pod.RunAsNonRoot || pod.RunAsUser == 0 {
		t.Errorf("the pod runs as user %d (runAsNonRoot %v), want a non-root user", pod.RunAsUser, pod.RunAsNonRoot)
	}
	sc := c.SecurityContext
	if !sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		t.Errorf("the container's securityContext %+v: want a read-only root, no privilege escalation and every capability dropped", sc)
	}
	if c.Resources.Limits["memory"] == "" {
		t.Error("the container has no memory limit")
	}
}

func TestKubernetesEnvironment(t *testing.T) {
	s := loadKubernetes(t)
	var d deployment
	s.decode(t, "Deployment", &d)
	c := theContainer(t, &d)
	var secret struct {
		StringData map[string]string `yaml:"stringData"`
	}
	sm := s.decode(t, "Secret", &secret)
	cm := s["ConfigMap"]
	env := configMapEnv(t, s)

	checkKnownVariables(t, "the ConfigMap", slices.Collect(maps.Keys(env)))
	var names []string
	for _, e := range c.Env {
		names = append(names, e.Name)
		if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			continue
		}
		ref := e.ValueFrom.SecretKeyRef
		if ref.Name != sm.Metadata.Name {
			t.Errorf("%s comes from Secret %q, want %q", e.Name, ref.Name, sm.Metadata.Name)
		} else if _, ok := secret.StringData[ref.Key]; !ok {
			t.Errorf("%s comes from key %s, which the Secret lacks", e.Name, ref.Key)
		}
	}
	checkKnownVariables(t, "the Deployment", names)
	for _, want := range []string{"FAL_KEY", "CUSTOM_ACCESS_KEY", "ADMIN_KEY", "DATABASE_URL", "REDIS_URL"} {
		if !slices.Contains(names, want) {
			t.Errorf("the Deployment does not set %s", want)
		}
		if _, ok := secret.StringData[want]; !ok {
			t.Errorf("the Secret has no %s", want)
		}
	}
	for _, ef := range c.EnvFrom {
		if ef.SecretRef != nil {
			t.Error("envFrom takes a whole Secret: name its keys in env instead, so that each is known")
		}
		if ef.ConfigMapRef != nil && ef.ConfigMapRef.Name != cm.Metadata.Name {
			t.Errorf("envFrom names ConfigMap %q, want %q", ef.ConfigMapRef.Name, cm.Metadata.Name)
		}
	}

	// The committed Secret holds placeholders only, and falproxy refuses
	// to start on them rather than run on a guessable access key.
	for k, v := range secret.StringData {
		if !strings.HasPrefix(v, placeholder) {
			t.Errorf("the Secret's %s is not a %s placeholder", k, placeholder)
		}
		env[k] = v
	}
	if _, err := loadConfig(env); err == nil || !strings.Contains(err.Error(), "CUSTOM_ACCESS_KEY") {
		t.Errorf("falproxy on the Secret's placeholders: %v, want CUSTOM_ACCESS_KEY refused", err)
	}
}
