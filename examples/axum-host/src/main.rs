//! A vendor's axum app: its own `/health` route, the portal and its admin API under `/portal`.
use std::{net::SocketAddr, sync::Arc};
use axum::{Router, extract::{ConnectInfo, Request}, middleware::{Next, from_fn}, routing::get};
use portal_core::{OsRandom, mail::OutboxMailer, prelude::*};
use portal_http::{AppService, AuthRefusal, ClientAddr, HttpConfig, PortalApp, StaffAuth};

struct VendorStaff(TenantId); // your own staff sign-in (SSO, sessions) goes here
#[async_trait]
impl StaffAuth for VendorStaff {
    async fn authenticate(&self, req: &http::request::Parts) -> Result<StaffContext, AuthRefusal> {
        match portal_http::bearer_token(req) {
            None => Err(AuthRefusal::Missing),
            Some("vendor-demo-token") => StaffContext::new(self.0, "u-1", "Priya", None, StaffRole::Admin).map_err(|_| AuthRefusal::Invalid),
            Some(_) => Err(AuthRefusal::Invalid),
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let store = Arc::new(portal_storage_sqlite::SqliteStore::open("axum-host.db").await?);
    let config = HttpConfig::builder("http://localhost:3000").mount_prefix("/portal").admin_prefix("/portal/api/v1").build()?;
    let mailer = Arc::new(OutboxMailer::new("outbox", "Vendor MSP <onboarding@vendor.example>")?);
    let secret = ServerSecret::generate(&OsRandom); // keep yours in your key store
    let service = PortalService::builder(store, mailer, Arc::new(config.links()), secret).build();
    let tenant = service.create_tenant("Vendor MSP", Branding::builder("Vendor MSP").build()?, vec![]).await?;
    let portal = AppService::new(Arc::new(PortalApp::try_new(service, config)?.with_staff_auth(Arc::new(VendorStaff(tenant.id)))));
    let router = Router::new()
        .route("/health", get(|| async { "ok" }))
        .route_service("/portal", portal.clone())
        .route_service("/portal/", portal.clone())
        .route_service("/portal/{*rest}", portal)
        .layer(from_fn(|ConnectInfo(addr): ConnectInfo<SocketAddr>, mut req: Request, next: Next| async move {
            req.extensions_mut().insert(ClientAddr(addr)); // for the portal's per-network limits
            next.run(req).await
        }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    Ok(axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await?)
}
