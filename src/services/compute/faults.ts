import { WSGI_FAULT_NAMES, wsgiFaults } from "../../http/wsgi-faults.js";

/** Nova's error body (nova/api/openstack/wsgi.py FaultWrapper), which also names 429 overLimit. */
export const computeFaults = wsgiFaults({ ...WSGI_FAULT_NAMES, 429: "overLimit" });
