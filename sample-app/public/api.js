/* The sample pages' one way to call the API: JSON in and out, the session cookie, and back to the
   sign-in page when the session is gone. */
'use strict';

window.sampleApi = async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: body ? { 'Content-Type': 'application/json', Accept: 'application/json' } : { Accept: 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
    credentials: 'same-origin',
  });
  let data = null;
  try {
    data = await res.json();
  } catch (e) {
    data = null;
  }
  if (res.status === 401) location.href = '/demo/sign-in';
  return { ok: res.ok, status: res.status, data };
};
