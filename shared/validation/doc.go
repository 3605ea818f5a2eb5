// Package validation checks Kubernetes resources against the schemas of
// one or several Kubernetes versions through the kubeconform library, and
// says where each problem is: the field path, the line of the rendered
// document and, for a chart, the template a human has to fix.
//
// It is a library in the model of kubeconform's pkg/validator: New
// prepares a Validator from Options, and Validator.Check learns the CRD
// files and judges the resources, giving an Outcome (results, findings,
// totals, the failing count). The validate and gitops-pr steps both call it.
//
// Schemas come from shared/schema (embedded built-in kinds and CRDs), which
// this package lays out on disk as a kubeconform schema location, then from
// any schema location the user adds. A resource whose kind has a schema of
// gitship's is judged as kubeconform's ValidateResource judges it, without
// its overheads: the document read once into the values kubeconform reads
// (decode, fastDecode for plain YAML), the schema compiled once as
// kubeconform compiles it, and the same library's validation, whose whole
// error explains an invalid resource. Anything else goes to kubeconform
// itself.
package validation
