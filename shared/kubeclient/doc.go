// Package kubeclient connects to a Kubernetes cluster the way kubectl
// would, with client-go and no kubectl binary: the kubeconfig named by a
// flag, else $KUBECONFIG, else ~/.kube/config, one of its contexts, else
// the in-cluster service account. It hands out a dynamic client (every
// object is read as unstructured, so no typed clientset is linked in) and
// says, in errors a user can act on, which server could not be reached or
// refused the credentials.
package kubeclient
