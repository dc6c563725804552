import { WSGI_FAULT_NAMES, wsgiFaults } from "../../http/wsgi-faults.js";

/** Cinder's error body (cinder/api/openstack/wsgi.py Fault): {"itemNotFound": {"code": 404, "message": "…"}}. */
export const volumeFaults = wsgiFaults(WSGI_FAULT_NAMES);
