"""One router per resource; ``fvi.api.app.ROUTERS`` lists the ones the service mounts."""
