"""Mobile bases (the Jackal-class differential-drive base; Fetch and TIAGo live in
`mobile_manipulators/`): one folder each, registered with `register_robot`. Imports only
`robots.spec`/`robots.registry`."""
