import { Gone } from "../../../common/errors.js";
import type { Route } from "../../../http/context.js";

const PKI_GONE = "This API is no longer available due to the removal of support for PKI tokens.";

/**
 * /v3/OS-SIMPLE-CERT (keystone/api/os_simple_cert.py): the PKI token certificates. PKI tokens
 * are gone, so both resources answer 410 to anyone (Keystone does not enforce a policy here).
 */
export function simpleCertRoutes(): Route[] {
  const gone = async (): Promise<never> => {
    throw new Gone(PKI_GONE);
  };
  return [
    { method: "GET", path: "/v3/OS-SIMPLE-CERT/ca", operation: "getCaCertificate", auth: "none", handler: gone },
    { method: "GET", path: "/v3/OS-SIMPLE-CERT/certificates", operation: "listSigningCertificates", auth: "none", handler: gone },
  ];
}
