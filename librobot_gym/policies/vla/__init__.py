"""The VLA stack's shared parts: registries, interfaces, configs, normalisation, chunking,
checkpoints and the `VLAPolicy` that makes a model act in an env. Components live in
`policies/vlm/` (backbones), `policies/frameworks/` and `policies/heads/`."""
