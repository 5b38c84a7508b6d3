# Los mensajes del portal para el cliente, en español (trato de usted): páginas,
# correos, fechas. Cada clave está también en en/portal.ftl con los mismos argumentos.

## Fechas y números

date-weekday = { $weekday ->
    [1] lun
    [2] mar
    [3] mié
    [4] jue
    [5] vie
    [6] sáb
   *[7] dom
}
date-month = { $month ->
    [1] ene
    [2] feb
    [3] mar
    [4] abr
    [5] may
    [6] jun
    [7] jul
    [8] ago
    [9] sept
    [10] oct
    [11] nov
   *[12] dic
}
date = { $weekday } { $day } { $month } { $year }
date-time = { $date }, { $clock }

count-days = { $count ->
    [one] { $count } día
   *[other] { $count } días
}
count-hours = { $count ->
    [one] { $count } hora
   *[other] { $count } horas
}
count-minutes = { $count ->
    [one] { $count } minuto
   *[other] { $count } minutos
}
count-seconds = { $count ->
    [one] { $count } segundo
   *[other] { $count } segundos
}
count-bytes = { $count ->
    [one] { $count } byte
   *[other] { $count } bytes
}
duration-a-day = un día
duration-an-hour = una hora

## El marco de todas las páginas

frame-neutral-company = Portal de clientes
frame-skip = Ir al contenido
frame-footer-branded = Portal seguro para clientes de { $company }.
frame-footer-private = Esta página es privada: no comparta su dirección.
nav-label = Portal
nav-team = Su equipo
nav-ask = Hacer una pregunta
nav-settings = Configuración
nav-sign-out = Cerrar sesión

## Páginas de acceso (invitación, verificación, enlace mágico)

title-invite = Su portal de incorporación
title-verify = Revise su correo
title-magic = Confirme que es usted
invite-welcome = Le damos la bienvenida, { $name }
invite-set-up = { $company } ha preparado un portal de incorporación para <strong>{ $client }</strong>.
invite-we-email = Para confirmar que es usted, enviaremos un enlace de acceso y un código de 6 dígitos a <strong>{ $email }</strong>, la dirección que tenemos registrada.
invite-send = Enviar correo de verificación
invite-hint = No necesita cuenta ni contraseña. Este enlace es personal: los compañeros que necesiten acceso recibirán su propia invitación.
verify-title = Revise su correo
verify-sent = Hemos enviado un correo a <strong>{ $email }</strong>. Abra el enlace que contiene o introduzca aquí el código de 6 dígitos.
verify-code-until = El código es válido hasta las { $time }.
verify-code-label = Código de verificación
verify-continue = Continuar
verify-didnt-get-it = ¿No lo ha recibido? Revise la carpeta de correo no deseado o
verify-send-new = envíe un código nuevo
verify-codes-left = { $count ->
    [one] (puede enviarse { $count } código más; cada código nuevo sustituye al anterior).
   *[other] (pueden enviarse { $count } códigos más; cada código nuevo sustituye al anterior).
}
verify-all-sent = Ya se han enviado los { $count } códigos permitidos para este acceso. Para empezar de nuevo, vuelva a abrir su enlace de invitación.
magic-title = Confirme que es usted
magic-continue-as = Continúe al portal de incorporación de { $client } como <strong>{ $name }</strong>.
magic-button = Continuar al portal
magic-hint = Este paso de confirmación impide que los filtros de seguridad del correo usen su enlace antes que usted.

## Páginas de error y avisos

error-unsupported-form-title = Formulario no admitido
error-unsupported-form-text = Envíe el formulario desde la página del portal.
error-form-too-large-title = Formulario demasiado grande
error-form-too-large-text = Lo que ha enviado supera el tamaño que admite este formulario. Acórtelo e inténtelo de nuevo.
error-the-form-took-too-title = El formulario tardó demasiado en llegar
error-the-form-took-too-text = Puede que su conexión sea lenta o se haya interrumpido. No se ha guardado nada: vuelva atrás e inténtelo de nuevo.
error-the-request-could-not-title = No se pudo leer la solicitud
error-the-request-could-not-text = Inténtelo de nuevo.
error-this-page-has-expired-title = Esta página ha caducado
error-this-page-has-expired-text = Por su seguridad, los formularios solo funcionan desde una página abierta recientemente. Vuelva atrás, recargue la página e inténtelo de nuevo.
error-not-allowed-title = No permitido
error-not-allowed-text = Esta dirección no admite ese tipo de solicitud.
error-this-form-came-from-title = Este formulario procede de otro sitio web
error-this-form-came-from-text = Por su seguridad, no se ha cambiado nada. El portal solo acepta formularios enviados desde sus propias páginas. Abra el portal desde el enlace de su correo e inténtelo allí.
error-please-sign-in-again-title = Vuelva a iniciar sesión
error-please-sign-in-again-text = Su sesión ha terminado. Abra el enlace de invitación de su correo para volver a entrar: le enviaremos un nuevo código de verificación.
error-this-signin-has-ended-title = Este acceso ha terminado
error-this-signin-has-ended-text = Este acceso ya se completó o fue sustituido por otro más reciente. Use el enlace de su correo más reciente o vuelva a abrir su enlace de invitación.
error-this-link-isnt-valid-title = Este enlace no es válido
error-this-link-isnt-valid-text = Este enlace de acceso ya se utilizó o fue sustituido por otro más reciente. Use el enlace de su correo más reciente o vuelva a abrir su enlace de invitación.
error-page-not-found-title = Página no encontrada
error-page-not-found-text = No hay ninguna página en esta dirección. Compruebe el enlace de su correo.
error-not-found-title = No encontrado
error-not-found-text = Esta imagen no existe.
error-this-link-isnt-valid-2-title = Este enlace no es válido
error-this-link-isnt-valid-2-text = Este enlace de recordatorio está incompleto o se ha modificado. Use el enlace tal como aparece en el correo de recordatorio.
error-this-link-has-expired-title = Este enlace ha caducado
error-this-link-has-expired-text = Los enlaces de los recordatorios son válidos durante un tiempo limitado. Use el enlace de su recordatorio más reciente.
error-no-meeting-scheduled-yet-title = Aún no hay reunión programada
error-no-meeting-scheduled-yet-text = Su equipo de incorporación todavía no ha programado esta reunión. La invitación de calendario aparecerá en la tarea cuando lo haga.
error-file-not-found-title = Archivo no encontrado
error-file-not-found-text = Este archivo no forma parte de su portal o se ha eliminado. Vuelva a su portal para ver sus documentos.
error-not-found-2-title = No encontrado
error-not-found-2-text = Esto no forma parte de su portal o se ha eliminado. Vuelva a su portal para ver lo que contiene.
error-this-link-isnt-valid-3-title = Este enlace no es válido
error-this-link-isnt-valid-3-text = No hemos encontrado ninguna invitación para este enlace. Puede que se haya sustituido por una invitación más reciente: busque la última en su correo o consulte a su contacto en la empresa que le invitó.
error-access-revoked-title = Acceso retirado
error-access-revoked-text = Se ha retirado su acceso a este portal. Si cree que se trata de un error, póngase en contacto con la empresa que le invitó.
error-this-portal-isnt-open-title = Este portal aún no está abierto
error-this-portal-isnt-open-text = Su equipo de incorporación todavía está preparando este portal. Le avisarán cuando esté listo; entonces su enlace de invitación funcionará.
error-this-portal-is-closed-title = Este portal está cerrado
error-this-portal-is-closed-text = Este portal de incorporación se ha cerrado. Si aún necesita algo de él, póngase en contacto con la empresa que le invitó.
error-not-allowed-2-title = No permitido
error-not-allowed-2-text = No puede hacer eso en este portal.
error-out-of-storage-space-title = Sin espacio de almacenamiento
error-out-of-storage-space-text = El servidor se ha quedado sin espacio de almacenamiento, así que su cambio no se ha guardado. Inténtelo de nuevo más tarde.
error-something-went-wrong-on-title = Algo ha fallado por nuestra parte
error-something-went-wrong-on-text = Inténtelo de nuevo dentro de un momento. Si sigue ocurriendo, póngase en contacto con la empresa que le invitó.
error-slow-down-title = Vaya un poco más despacio
error-slow-down-text = { $count ->
    [one] Está enviando muchos cambios seguidos: espere un minuto e inténtelo de nuevo. El portal acepta hasta { $count } cambio por minuto; lo que acaba de enviar no se ha guardado.
   *[other] Está enviando muchos cambios seguidos: espere un minuto e inténtelo de nuevo. El portal acepta hasta { $count } cambios por minuto; lo que acaba de enviar no se ha guardado.
}
error-network-title = Demasiados intentos desde su red
error-network-text = { $count ->
    [one] Se han producido demasiados intentos de acceso desde su red recientemente; inténtelo de nuevo dentro de { $count } minuto. Esta vez no se ha enviado ni comprobado nada. Si comparte la conexión a Internet con muchos compañeros, puede que alguno de ellos también esté accediendo.
   *[other] Se han producido demasiados intentos de acceso desde su red recientemente; inténtelo de nuevo dentro de { $count } minutos. Esta vez no se ha enviado ni comprobado nada. Si comparte la conexión a Internet con muchos compañeros, puede que alguno de ellos también esté accediendo.
}
error-signin-expired-title = Este acceso ha caducado
error-signin-expired-text = Un acceso es válido durante { $duration } desde que se inicia. Vuelva a abrir su enlace de invitación para empezar uno nuevo.
error-code-expired-text = Los enlaces y códigos de acceso son válidos durante { $duration }. Vuelva a abrir su enlace de invitación para recibir uno nuevo.
error-too-many-codes-title = Demasiados códigos solicitados
error-too-many-codes-text = { $count ->
    [one] Ya le hemos enviado { $count } código para este acceso, el máximo permitido. Busque el correo más reciente en su bandeja de entrada y en la carpeta de correo no deseado, o vuelva a abrir su enlace de invitación más tarde para empezar de nuevo.
   *[other] Ya le hemos enviado { $count } códigos para este acceso, el máximo permitido. Busque el correo más reciente en su bandeja de entrada y en la carpeta de correo no deseado, o vuelva a abrir su enlace de invitación más tarde para empezar de nuevo.
}
error-wrong-tries-title = Demasiados intentos fallidos
error-wrong-tries-text = { $count ->
    [one] Ese código se introdujo mal { $count } vez y ya no funciona. Vuelva a abrir su enlace de invitación para recibir uno nuevo.
   *[other] Ese código se introdujo mal { $count } veces y ya no funciona. Vuelva a abrir su enlace de invitación para recibir uno nuevo.
}
error-locked-out-title = Demasiados códigos incorrectos
error-locked-out-text = Por su seguridad, de momento no se pueden usar códigos porque se introdujeron demasiados incorrectos. Podrá intentarlo de nuevo después de { $time }. El enlace de acceso de su correo más reciente sigue funcionando.
error-too-many-emails-title = Demasiados correos
error-too-many-emails-text = { $count ->
    [one] Hemos enviado { $count } correo de verificación a esta dirección en { $duration }, el máximo permitido. Busque el más reciente en su bandeja de entrada (y en la carpeta de correo no deseado) o inténtelo de nuevo más tarde.
   *[other] Hemos enviado { $count } correos de verificación a esta dirección en { $duration }, el máximo permitido. Busque el más reciente en su bandeja de entrada (y en la carpeta de correo no deseado) o inténtelo de nuevo más tarde.
}
error-check-input-title = Revise los datos introducidos
error-conflict-title = Eso no se puede hacer ahora
error-stale-title = Alguien lo ha cambiado mientras tanto
error-too-large-title = Demasiado grande
error-too-large-text = Lo que ha enviado supera los { $size } permitidos aquí. No se ha guardado nada: redúzcalo e inténtelo de nuevo.
error-mail-title = No hemos podido enviar el correo
error-mail-text = Nuestro servicio de correo no ha aceptado el mensaje en este momento, así que no se le ha enviado ningún correo.
back-to-invitation = Volver a su invitación
back-to-sign-in = Volver a la página de acceso
back-to-portal = Volver a su portal
back-to-task = Volver a la tarea
download-refused-title = Este archivo no se puede descargar
signed-out-title = Ha cerrado la sesión
signed-out-text = Para volver, abra el enlace de invitación de su correo. Le enviaremos un nuevo código de verificación.
snooze-title = Recordármelo más tarde
snooze-question = ¿Pausar los recordatorios de «{ $task }» durante 3 días, { $name }?
snooze-button = Recordármelo dentro de 3 días
snooze-hint = Las demás tareas se seguirán recordando como de costumbre.
stop-title = Dejar de recibir recordatorios
stop-question = ¿Dejar de enviar correos de recordatorio del portal de incorporación de { $client } a { $email }?
stop-hint = Seguirá recibiendo los códigos de acceso y los mensajes de { $company }, y sus tareas seguirán en el portal.
snoozed-title = Recordatorios en pausa
snoozed-text = No le recordaremos «{ $task }» durante los próximos 3 días.
stopped-title = Recordatorios desactivados
stopped-text = { $email } ya no recibirá correos de recordatorio de este portal. Los códigos de acceso y los mensajes seguirán llegando.
verify-notice-sent = Le hemos enviado un código nuevo. Sustituye al anterior.
verify-error-wrong = { $count ->
    [one] Ese código no es correcto. Puede intentarlo { $count } vez más.
   *[other] Ese código no es correcto. Puede intentarlo { $count } veces más.
}
verify-error-format = Introduzca el código de 6 dígitos del correo.
verify-error-expired = Este código ha caducado. Solicite un código nuevo más abajo.
verify-error-too-many = Demasiados intentos fallidos: este código ya no funciona. Solicite un código nuevo más abajo.

## Actividad

# Una línea del registro de actividad; $kind es el tipo de entrada.
activity-line = { $kind ->
    [TaskCompleted] { $who } completó «{ $subject }»
    [ProgressSaved] { $who } guardó su avance en «{ $subject }»
    [ItemChecked] { $who } marcó un punto de «{ $subject }»
    [ItemUnchecked] { $who } desmarcó un punto de «{ $subject }»
    [Approved] { $who } aprobó «{ $subject }»
    [Rejected] { $who } rechazó «{ $subject }»
    [MeetingScheduled] { $who } programó «{ $subject }»
    [MeetingRescheduled] { $who } reprogramó «{ $subject }»
    [TaskBlocked] { $who } bloqueó «{ $subject }»
    [TaskUnblocked] { $who } desbloqueó «{ $subject }»
    [TaskReopened] { $who } reabrió «{ $subject }»
    [Commented] { $who } comentó en «{ $subject }»
    [QuestionAsked] { $who } hizo una pregunta: «{ $subject }»
    [QuestionAnswered] { $who } respondió una pregunta: «{ $subject }»
    [DocumentUploaded] { $who } subió un documento a «{ $subject }»
    [DocumentApproved] { $who } aprobó un documento de «{ $subject }»
    [DocumentRejected] { $who } rechazó un documento de «{ $subject }»
    [DocumentQuarantined] { $who } tiene un documento en cuarentena por el análisis antivirus en «{ $subject }»
    [DocumentScanned] { $who } volvió a analizar un documento de «{ $subject }»
    [TaskAdded] { $who } añadió la tarea «{ $subject }»
    [TaskEdited] { $who } editó «{ $subject }»
    [TaskMoved] { $who } movió «{ $subject }»
    [TaskDeleted] { $who } eliminó la tarea «{ $subject }»
    [TaskUnlocked] «{ $subject }» ya está disponible: todo lo que esperaba está hecho
    [PhaseRenamed] { $who } cambió el nombre de una fase a «{ $subject }»
    [PhaseMoved] { $who } movió la fase «{ $subject }»
    [PhaseDeleted] { $who } eliminó la fase «{ $subject }»
    [PlanApplied] { $who } preparó el plan a partir de la plantilla «{ $subject }»
    [ContactRemoved] { $who } eliminó el contacto «{ $subject }»
    [PortalRenamed] { $who } cambió el nombre del portal a «{ $subject }»
    [TargetDateSet] { $who } cambió la fecha prevista de puesta en marcha de «{ $subject }»
    [ContactEdited] { $who } actualizó el contacto «{ $subject }»
    [PortalCreated] { $who } creó el portal para «{ $subject }»
    [PortalStatusChanged] { $who } cambió el estado del portal a «{ $subject }»
    [BrandingChanged] { $who } cambió la imagen del portal a «{ $subject }»
    [PhaseAdded] { $who } añadió la fase «{ $subject }»
    [ContactAdded] { $who } añadió el contacto «{ $subject }»
    [ContactInvited] { $who } envió una invitación a «{ $subject }»
    [InviteLinkIssued] { $who } generó un enlace de invitación para «{ $subject }»
    [InviteRevoked] { $who } anuló la invitación de «{ $subject }»
    [ContactRevoked] { $who } retiró el acceso de «{ $subject }»
    [ReminderSettingsChanged] { $who } cambió la configuración de recordatorios de «{ $subject }»
    [FileDropped] { $who } depositó un archivo en «{ $subject }»
    [FileDeleted] { $who } eliminó un archivo depositado en «{ $subject }»
    [FileDownloaded] { $who } descargó un archivo depositado en «{ $subject }»
    [FileExpired] { $who } eliminó un archivo caducado de «{ $subject }»
    [StuckReported] { $who } necesita ayuda con «{ $subject }»
    [StuckCleared] { $who } respondió y cerró la solicitud de ayuda de «{ $subject }»
    [DueDateRequested] { $who } pidió una nueva fecha límite para «{ $subject }»
    [DueDateApproved] { $who } aprobó una nueva fecha límite para «{ $subject }»
    [DueDateDeclined] { $who } rechazó una nueva fecha límite para «{ $subject }»
    [TeamChanged] { $who } cambió el equipo de incorporación de «{ $subject }»
    [ColleagueInvited] { $who } invitó a un compañero: «{ $subject }»
    [ColleagueApproved] { $who } aprobó al compañero invitado «{ $subject }»
    [ColleagueDeclined] { $who } rechazó al compañero invitado «{ $subject }»
    [TaskClaimed] { $who } se encargó de «{ $subject }»
    [TaskHandedOff] { $who } traspasó «{ $subject }»
    [ColleagueInvitationsSet] { $who } cambió quién puede invitar a compañeros a «{ $subject }»
    [AttachmentAdded] { $who } compartió un documento en «{ $subject }»
    [AttachmentDeleted] { $who } retiró un documento compartido de «{ $subject }»
    [GuestInvited] { $who } invitó a la persona externa «{ $subject }»
    [GuestTaskShared] { $who } compartió una tarea con la persona externa «{ $subject }»
    [GuestTaskUnshared] { $who } dejó de compartir una tarea con la persona externa «{ $subject }»
    [GuestAccessEnded] { $who } terminó el acceso de la persona externa «{ $subject }»
    [HandoverStarted] { $who } inició el traspaso desde el proveedor anterior «{ $subject }»
   *[other] { $who }: «{ $subject }»
}

## Estados y distintivos

task-status = { $status ->
    [pending] Pendiente
    [in_progress] En curso
    [completed] Completada
   *[blocked] Bloqueada
}
phase-status = { $status ->
    [pending] Pendiente
    [in_progress] En curso
   *[completed] Completada
}
task-badge = { $kind ->
    [standard] Marcar como completada
    [meeting] Reunión
    [document_upload] Subida de documentos
    [signature] Firma
    [credential_handoff] Credenciales
    [secure_file_drop] Entrega segura de archivos
    [training] Vídeo de formación
    [survey] Formulario
    [checklist] Lista de comprobación
   *[approval] Aprobación
}
waiting-on = { $on ->
    [review] Pendiente de revisión por { $msp }
    [blocked] En espera: { $msp } la desbloqueará
    [prerequisites] Pendiente de un paso anterior
    [scheduling] Pendiente de que { $msp } la programe
    [msp] A cargo de { $msp }
   *[stuck] Pendiente de la ayuda de { $msp }
}
document-status = { $status ->
    [requested] Solicitado
    [uploaded] Subido
    [approved] Aprobado
   *[rejected] Rechazado
}
document-meaning = { $status ->
    [requested] Pendiente de subir
    [uploaded] Enviado, pendiente de revisión
    [approved] Revisado y aceptado
   *[rejected] Debe volver a subirse
}

## Archivos y documentos

file-type = { $type ->
    [Pdf] PDF
    [Png] imagen PNG
    [Jpeg] imagen JPEG
    [Gif] imagen GIF
    [Webp] imagen WebP
    [Heic] foto HEIC
    [Tiff] imagen TIFF
    [Docx] documento de Word
    [Xlsx] hoja de cálculo de Excel
    [Pptx] presentación de PowerPoint
    [Doc] archivo de Office 97-2003 o mensaje de Outlook
    [Odt] texto de OpenDocument
    [Ods] hoja de cálculo de OpenDocument
    [Odp] presentación de OpenDocument
    [Zip] archivo ZIP
    [SevenZip] archivo 7-Zip
   *[Text] archivo de texto (TXT, CSV, registro)
}
file-type-any = PDF, archivos de Office y OpenDocument, imágenes (PNG, JPEG, GIF, WebP, HEIC, TIFF), archivos ZIP y 7-Zip, archivos de texto
file-state = { $state ->
    [pending] Pendiente de revisión
    [held] Retenido hasta que el antivirus pueda analizarlo
    [approved] Aprobado
    [rejected] Rechazado
    [superseded] Sustituido antes de la revisión
   *[quarantined] En cuarentena por el antivirus
}
notes-from = Notas de { $name }
notes-from-scan = Del análisis antivirus
notes = Notas

## Inicio del portal

tab-label = { $tab ->
    [tasks] Sus tareas
    [progress] Nuestro avance
    [documents] Documentos
   *[approvals] Aprobaciones
}
tab-count-open = { $count } { $count ->
    [one] abierta
   *[other] abiertas
}
tab-count-done = { $percent } % hecho
tab-count-upload = { $count } por subir
tab-count-decide = { $count } por decidir
tabs-label = Secciones del portal
panel-tasks-title = Sus tareas
panel-tasks-intro = Lo que necesitamos de usted, fase por fase.
panel-tasks-empty = Ahora mismo no tiene nada pendiente.
panel-progress-title = Nuestro avance
panel-progress-intro = El plan de incorporación completo: nuestras tareas y las suyas, fase por fase.
panel-progress-empty = El plan de incorporación todavía se está preparando.
panel-documents-title = Documentos
panel-documents-intro = Todos los documentos que le hemos pedido y en qué estado están. Súbalos desde la tarea de cada documento.
panel-documents-empty = No se ha solicitado ningún documento.
panel-approvals-title = Aprobaciones
panel-approvals-intro = Las decisiones que necesitamos de usted, primero las pendientes.
panel-approvals-empty = No se necesita ninguna aprobación.
home-title = Incorporación de { $client }
signed-in-as = Ha iniciado sesión como { $name }
next-step = Siguiente paso
badge-title = Lo que requiere esta tarea
due = Vence el { $date }
overdue = Vencida
due-soon = Vence pronto
blocked-label = Bloqueada:
waiting-for-label = Pendiente de:
done-complete = Su incorporación ha finalizado
done-all-done = Ha terminado todo lo suyo: esto es lo que sigue
done-thanks = Todas las tareas del plan están hechas. ¡Gracias!
done-msp-working = { $company } está trabajando en:
quoted = «{ $text }»
done-waiting = { $count ->
    [one] Una de sus tareas está pendiente de { $company }. Aparecerá aquí cuando esté lista para usted.
   *[other] { $count } de sus tareas están pendientes de { $company }. Aparecerán aquí cuando estén listas para usted.
}
done-colleagues = { $count ->
    [one] Una tarea la tiene un compañero.
   *[other] { $count } tareas las tienen sus compañeros.
}
go-live = Puesta en marcha prevista: <strong>{ $date }</strong>
overall-progress = Avance general: <strong>{ $percent } %</strong> ({ $completed } de { $total } tareas completadas)
shared-by = Compartido por { $company }
doc-opened = Abierto
doc-not-opened = Aún sin abrir
task-label = Tarea:
shared-at = compartido el { $time }
open = Abrir
download = Descargar
requested-from-you = Solicitado a usted
uploaded-at = subido el { $time }
version = versión { $version }
upload = Subir
upload-new-version = Subir una versión nueva
for-name = para { $name }
in-name = en { $name }
to-name = a { $name }
current-phase = Fase actual
phase-percent = <strong>{ $percent } %</strong> hecho ({ $completed } de { $total } tareas, nuestras y suyas)
planned = Previsto: { $dates }
phase-no-tasks = Todavía no hay tareas en esta fase.
phase-show-tasks = { $count ->
    [one] Ver su tarea
   *[other] Ver sus { $count } tareas
}
phase-nothing-left = No le queda nada pendiente en esta fase.
phase-completed = { $count } { $count ->
    [one] completada
   *[other] completadas
}
team-title = Su equipo de incorporación
team-hint = Las personas de { $company } que se ocupan de su incorporación. Escríbales o <a href="{ $href }">haga una pregunta a todo el equipo</a>.
ask-a-question = Hacer una pregunta
activity-title = Actividad reciente
activity-empty = Todavía no ha ocurrido nada.
button-start = Empezar
button-continue = Continuar
outcome-approved = Aprobada
outcome-rejected = Rechazada
side-you = Usted
side-with-colleague = A cargo de un compañero
side-with = A cargo de { $names }
assigned-role = Para el contacto de { $role }
assigned-role-you = Para el contacto de { $role }: usted
assigned-role-names = Para el contacto de { $role }: { $names }
assigned-you = Asignada a usted
assigned-colleague = Asignada a un compañero
assigned-names = Asignada a { $names }

## Correos

email-hi = Hola, { $name }:
email-signoff = — { $company }
email-invite-subject = { $company } le ha invitado a su portal de incorporación
email-invite-title = Su portal de incorporación
email-invite-intro-html = <strong>{ $company }</strong> ha preparado un portal de incorporación para { $client }. En él verá lo que necesitamos de usted, podrá completarlo todo en un solo lugar y seguir cómo avanza la incorporación.
email-invite-intro = { $company } ha preparado un portal de incorporación para { $client }. En él verá lo que necesitamos de usted, podrá completarlo todo en un solo lugar y seguir cómo avanza la incorporación.
email-invite-button = Abrir su portal
email-invite-open = Abra su portal:
email-invite-personal = Este enlace es personal: no lo reenvíe. Los compañeros que necesiten acceso recibirán su propia invitación. Al abrirlo, le enviaremos un código por correo para confirmar que es usted. No necesita cuenta ni contraseña.
email-verify-subject = Su código de verificación del portal de { $company }
email-verify-title = Su código de verificación
email-verify-asked-html = Alguien (esperamos que usted) ha pedido abrir su portal de incorporación de <strong>{ $company }</strong>.
email-verify-asked = Alguien (esperamos que usted) ha pedido abrir su portal de incorporación de { $company }.
email-verify-button = Confirmar que soy yo
email-verify-open-link = Abra este enlace para confirmar que es usted:
email-verify-or-code = O introduzca este código en la pestaña del navegador desde la que lo solicitó:
email-verify-works = El enlace y el código son válidos durante { $lifetime } (hasta las { $expires }) y una sola vez.
email-verify-ignore = Si no lo ha solicitado, puede ignorar este correo: nadie puede abrir su portal sin él.

## Configuración, equipo, preguntas, invitados

settings-zone-title = Zona horaria
settings-zone-shown = Todas las fechas y horas de su portal se muestran en <strong>{ $zone }</strong>.
settings-zone-label = Su zona horaria
settings-zone-save = Guardar zona horaria
settings-devices-title = Dispositivos con sesión iniciada
settings-devices-hint = Dónde está abierto su portal ahora. Si ve un dispositivo que ya no utiliza, cierre su sesión.
settings-this-device = Este dispositivo
settings-device-times = Último uso: { $last } · sesión iniciada: { $since }
settings-sign-out-others = Cerrar sesión en los demás dispositivos
settings-no-other = No hay ningún otro dispositivo con sesión iniciada.
settings-notice-zone = Zona horaria guardada. Todas las horas de su portal se muestran ahora en ella.
settings-notice-others = Se ha cerrado la sesión en todos los demás dispositivos. Este sigue con la sesión iniciada.
settings-error-zone = Elija su zona horaria de la lista.
device-on = { $browser } en { $system }
device-browser-on = Un navegador en { $system }
device-unknown = Dispositivo desconocido
team-page-intro = Todas las personas de su empresa que pueden ver este portal de incorporación. Cada una accede con su propio enlace.
team-you = (usted)
team-awaiting = Pendiente de la aprobación de su equipo de incorporación.
team-since = Desde el <time>{ $time }</time>.
team-invite-title = Invitar a un compañero
team-invite-after-approval = Su equipo de incorporación aprueba primero cada invitación; después, su compañero recibe por correo su propio enlace de acceso.
team-invite-at-once = Su compañero recibe por correo su propio enlace de acceso de inmediato. Se informa a su equipo de incorporación.
team-their-name = Su nombre
team-their-email = Su correo de trabajo
team-invite-button = Invitar al compañero
team-notice-invited = Invitación enviada. Su compañero recibirá por correo su propio enlace de acceso.
team-notice-requested = Gracias. Su equipo de incorporación aprobará a su compañero, que después recibirá su propio enlace de acceso.
team-error-name = No se ha enviado nada: indique el nombre de su compañero (hasta 200 caracteres).
team-error-email = No se ha enviado nada: indique una dirección de correo como nombre@ejemplo.com.
team-error-taken = No se ha enviado nada: ya hay alguien con este correo en su equipo.
team-error-full = No se ha enviado nada: su equipo ya tiene tantas personas como permite el portal. Pida ayuda a su equipo de incorporación.
questions-intro = Pregunte lo que quiera a su equipo de incorporación. Lo recibirán por correo y le responderán aquí.
questions-to = Para
questions-to-hint = Todo su equipo de incorporación o una sola persona: lo recibirán por correo.
questions-label = Su pregunta
questions-send = Enviar pregunta
questions-list-title = Preguntas y respuestas
questions-none = Todavía no hay preguntas.
questions-to-name = Para: { $name }
questions-answered = <strong>{ $name }</strong> respondió el <time>{ $time }</time>
questions-waiting = Pendiente de respuesta.
questions-whole-team = Todo el equipo de incorporación
questions-error-to = Elija a quién preguntar: la persona que eligió ya no forma parte de su equipo de incorporación.
questions-error-text = Revise su pregunta: no puede estar vacía y admite hasta 5000 caracteres.
guest-page-title = Tareas compartidas con usted
guest-title = Tareas que { $company } ha compartido con usted
guest-intro = { $company } está incorporando a { $client } y le ha pedido ayuda con estas tareas. Solo verá estas tareas y sus mensajes.
guest-access-ends = Su acceso termina el { $time }.
guest-none = En este momento no hay ninguna tarea compartida con usted.

notice-completed = Marcada como completada. ¡Gracias!
notice-saved = Borrador guardado. Puede volver más tarde y enviarlo.
notice-submitted = Formulario enviado. ¡Gracias!
notice-checked = Punto marcado.
notice-unchecked = Punto desmarcado.
notice-approved = Aprobado. Se ha registrado su decisión.
notice-rejected = Rechazado. Se ha registrado su decisión.
notice-commented = Comentario publicado.
notice-stuck = Enviado. Hemos avisado a su equipo de incorporación de que necesita ayuda; le responderá en los comentarios de abajo.
notice-due-date = Solicitud enviada. Su equipo de incorporación aprobará o rechazará la nueva fecha; recibirá un correo.
notice-asked = Pregunta enviada. Su equipo de incorporación le responderá aquí.
notice-claim = Ahora es suya: la tarea aparece asignada a usted.
notice-hand-off = Traspasada. Su compañero ha recibido por correo un enlace a esta tarea.
notice-signed = Firmado. ¡Gracias! Su certificado de evidencia está enlazado más abajo.
notice-credentials = Credenciales enviadas. Están cifradas y solo su equipo de incorporación puede verlas.
notice-uploaded = Subido. Su equipo de incorporación lo revisará y verá el resultado aquí.
notice-dropped = Archivo depositado. Está cifrado y solo su equipo de incorporación puede descargarlo hasta que caduque.
notice-dropped-several = Archivos depositados. Están cifrados y solo su equipo de incorporación puede descargarlos hasta que caduquen.
notice-deleted = Archivo eliminado.
notice-quarantined = Nuestro antivirus ha marcado el archivo que subió, así que nadie puede abrirlo. Consulte la nota del documento más abajo.

## Página de tarea

task-complete-label = Completar esta tarea
task-completed-by = Completada por { $name } el { $time }
task-notes-label = Notas o evidencias
optional = (opcional)
required = (obligatorio)
task-mark-complete = Marcar como completada
task-meeting-label = Reunión
meeting-when = Cuándo
meeting-duration = Duración
meeting-agenda = Orden del día
meeting-join = Unirse a la reunión
meeting-ics = Descargar la invitación de calendario
meeting-unscheduled = Su equipo de incorporación programará esta reunión y la fecha aparecerá aquí.
training-label = Vídeo de formación
training-iframe-title = Vídeo de formación: { $title } ({ $provider })
training-open-on = Abrir el vídeo en { $provider }
training-if-no-player = (si el reproductor de arriba no carga)
survey-label = Formulario
survey-submitted-by = Enviado por { $name } el { $time }
survey-draft-saved = Borrador guardado el { $time }. Envíelo cuando haya terminado.
survey-no-answer = Sin respuesta
survey-submit = Enviar
survey-save = Guardar borrador
checklist-label = Lista de comprobación
checklist-done = <strong>{ $completed } de { $total }</strong> hechos
checklist-progress = Avance de la lista de comprobación
checklist-of = { $completed } de { $total }
checklist-checked-by = Marcado por { $name } el { $time }
checklist-uncheck = Desmarcar
