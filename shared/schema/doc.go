// Package schema holds the JSON Schemas resources are validated against:
// those of the built-in Kubernetes kinds, embedded for every minor release
// from 1.29 to the newest, the latest patch of each (generated from the
// Kubernetes source by tools/schemagen, so validation needs no network;
// each distinct definition is stored once, by content hash, see
// generate.go), and those derived from CustomResourceDefinitions.
//
// A schema is a standalone draft-04 document in the form kubeconform loads
// from a schema location, with the semantics openapi2jsonschema gives the
// published ones: int-or-string and quantities take a string or a number,
// fields that are not required accept null (as Helm renders an unset
// value), and strict schemas refuse the fields they do not declare.
package schema
