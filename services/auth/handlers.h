/* handlers.h - HTTP handlers of the auth service (see routes.c). */
#ifndef AUTH_HANDLERS_H
#define AUTH_HANDLERS_H

#include <osh/http.h>

void h_login(struct osh_req *req);
void h_refresh(struct osh_req *req);
void h_logout(struct osh_req *req);
void h_profile_get(struct osh_req *req);
void h_profile_patch(struct osh_req *req);
void h_password(struct osh_req *req);
void h_jwks(struct osh_req *req);
void h_service_token(struct osh_req *req);
void h_users_list(struct osh_req *req);
void h_users_create(struct osh_req *req);
void h_users_get(struct osh_req *req);
void h_users_patch(struct osh_req *req);
void h_users_delete(struct osh_req *req);
void h_audit_list(struct osh_req *req);
void h_audit_export(struct osh_req *req);

#endif
