// Package forgetest fakes the pull request APIs gitship calls: GitHub's
// REST and GraphQL endpoints (GitHub) and Azure DevOps' REST endpoints,
// with the resource-area and location discovery azure-devops-go-api makes
// before its first call (Azure). Each fake is an httptest server that
// keeps pull requests in memory, checks the token as the service does,
// records every request for assertions, and can fail the next requests
// (FailNext, Inject) to test retries.
//
// The request and response shapes follow the services' REST references
// (docs.github.com/rest: pulls, issues/labels, pulls/review-requests;
// docs.github.com/graphql: enablePullRequestAutoMerge;
// learn.microsoft.com/rest/api/azure/devops/git/pull-requests) and what
// azure-devops-go-api v7 sends and decodes. Only the endpoints and fields
// gitship uses are served; the others answer 404.
package forgetest
