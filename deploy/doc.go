// Package deploy holds no code. Its tests lint the deployment files that
// cannot be run where the tests run (no container runtime, no cluster):
// compose.yaml at the module root, deploy/compose (the load balancer of its
// fleet profile) and deploy/kubernetes. They check what falproxy needs of
// them: the names and values of its variables, its health route and port,
// and a shutdown that is not cut short.
package deploy
