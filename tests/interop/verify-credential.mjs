// Verifies an Open Badges 3.0 credential with Digital Bazaar's Verifiable Credentials stack, independently of the
// Python code that issued it: @digitalbazaar/vc, the eddsa-rdfc-2022 cryptosuite through @digitalbazaar/data-integrity
// (default settings, so JSON-LD safe mode is on), and @digitalbazaar/vc-bitstring-status-list for the status check.
//
// Input (stdin, JSON):
//   {"credential": {...}, "contexts": {"<url>": {...}}, "didDocument": {...},
//    "statusLists": {"<url>": {...}}, "now": "2026-11-30T12:00:00Z"}
// Output (stdout, JSON): {"valid": bool (verified and not revoked), "verified": bool, "errors": [..], "statusVerified": bool|null, "revoked": bool|null}
//
// The document loader works offline: it serves only the contexts, the DID document and the status-list credentials
// given on stdin, and refuses every other URL, so nothing is ever fetched from the network.
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022CryptoSuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';

const readStdin = async () => {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
};

const describe = error => {
  if(!error) {
    return [];
  }
  const errors = Array.isArray(error) ? error : (error.errors || [error]);
  // jsonld.js puts the reason for a safe-mode failure (e.g. "relative @type reference") in details.event.
  const event = e => (e && e.details && e.details.event ? [`${e.details.event.code}: ${e.details.event.message}`] : []);
  return errors.flatMap(e => [String(e && (e.message || e)), ...event(e), ...(e && e.cause ? describe(e.cause) : [])]);
};

const input = await readStdin();
const contexts = input.contexts || {};
const didDocument = input.didDocument || null;
const statusLists = input.statusLists || {};

const documentLoader = async url => {
  if(Object.hasOwn(contexts, url)) {
    return {contextUrl: null, documentUrl: url, document: contexts[url]};
  }
  if(Object.hasOwn(statusLists, url)) {
    return {contextUrl: null, documentUrl: url, document: statusLists[url]};
  }
  if(didDocument && url.startsWith(didDocument.id)) {
    const [did, fragment] = url.split('#');
    if(did !== didDocument.id) {
      throw new Error(`unknown DID ${did}`);
    }
    if(!fragment) {
      return {contextUrl: null, documentUrl: url, document: didDocument};
    }
    const method = (didDocument.verificationMethod || []).find(vm => vm.id === url);
    if(!method) {
      throw new Error(`unknown verification method ${url}`);
    }
    return {
      contextUrl: null, documentUrl: url,
      document: {'@context': 'https://w3id.org/security/multikey/v1', ...method}
    };
  }
  throw new Error(`offline document loader refuses ${url}`);
};

const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022CryptoSuite});
let output;
try {
  const result = await vc.verifyCredential({
    credential: input.credential,
    suite,
    documentLoader,
    checkStatus,
    now: input.now ? new Date(input.now) : undefined
  });
  const status = result.statusResult || null;
  const statusResults = status && Array.isArray(status.results) ? status.results : [];
  const revoked = statusResults.length ? statusResults.some(r => r.status === true) : null;
  output = {
    valid: result.verified === true && revoked !== true,
    verified: result.verified === true,
    errors: [...describe(result.error), ...describe(status && status.error)],
    statusVerified: status ? status.verified === true : null,
    revoked
  };
} catch(error) {
  output = {valid: false, verified: false, errors: describe(error), statusVerified: null, revoked: null};
}
process.stdout.write(JSON.stringify(output) + '\n');
