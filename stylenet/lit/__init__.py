"""The Lightning side of training feed-forward style networks: the module, the photo
datamodule, schedules."""
