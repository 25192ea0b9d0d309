<?php
/**
 * Settings → OpenConsult: the organisation's address.
 *
 * @package OpenConsult
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Add the page under Settings.
 */
function openconsult_add_settings_page() {
	add_options_page(
		__( 'OpenConsult', 'openconsult' ),
		__( 'OpenConsult', 'openconsult' ),
		'manage_options',
		'openconsult',
		'openconsult_render_settings_page'
	);
}

/**
 * Register the option, its section and its field.
 */
function openconsult_register_settings() {
	register_setting(
		'openconsult',
		OPENCONSULT_OPTION,
		array(
			'type'              => 'string',
			'default'           => '',
			'sanitize_callback' => 'openconsult_sanitize_address',
		)
	);
	add_settings_section( 'openconsult_main', '', '__return_false', 'openconsult' );
	add_settings_field(
		'openconsult_address',
		__( 'Organisation address', 'openconsult' ),
		'openconsult_render_address_field',
		'openconsult',
		'openconsult_main',
		array( 'label_for' => 'openconsult_address' )
	);
}

/**
 * Keep only "https://host[:port]" of what was entered; refuse anything that is no web address.
 *
 * @param string $value The submitted address.
 * @return string
 */
function openconsult_sanitize_address( $value ) {
	$value = trim( (string) $value );
	if ( '' === $value ) {
		return '';
	}
	if ( ! preg_match( '#^[a-z][a-z0-9+.-]*:#i', $value ) ) {
		$value = 'https://' . $value; // "demo.openconsult.example" as typed; WordPress would make it http://.
	}
	$url    = esc_url_raw( $value, array( 'https', 'http' ) );
	$origin = $url === $value ? openconsult_origin( $url ) : ''; // esc_url_raw() dropped characters: no address.
	if ( '' === $origin ) {
		add_settings_error(
			OPENCONSULT_OPTION,
			'openconsult_invalid_address',
			__( 'That is not a web address. Enter your organisation\'s OpenConsult address, for example https://demo.openconsult.example', 'openconsult' )
		);
		return (string) get_option( OPENCONSULT_OPTION, '' );
	}
	return $origin;
}

/**
 * The address field.
 */
function openconsult_render_address_field() {
	printf(
		'<input type="url" id="openconsult_address" name="%1$s" value="%2$s" class="regular-text" placeholder="https://demo.openconsult.example" aria-describedby="openconsult_address_help">',
		esc_attr( OPENCONSULT_OPTION ),
		esc_attr( get_option( OPENCONSULT_OPTION, '' ) )
	);
	echo '<p class="description" id="openconsult_address_help">' . esc_html__( 'The address of your organisation in OpenConsult, as in your browser when you sign in (only the part before the first "/" after the name is kept).', 'openconsult' ) . '</p>';
}

/**
 * The settings page.
 */
function openconsult_render_settings_page() {
	if ( ! current_user_can( 'manage_options' ) ) {
		return;
	}
	echo '<div class="wrap"><h1>' . esc_html__( 'OpenConsult', 'openconsult' ) . '</h1>';
	echo '<form method="post" action="options.php">';
	settings_fields( 'openconsult' );
	do_settings_sections( 'openconsult' );
	submit_button();
	echo '</form>';
	echo '<h2>' . esc_html__( 'Adding a widget to a page', 'openconsult' ) . '</h2>';
	echo '<p>' . esc_html__( 'Add a Shortcode block (or type in the text) with the widget\'s kind and key, which you find on the widget\'s edit screen in the OpenConsult admin:', 'openconsult' ) . '</p>';
	echo '<p><code>[openconsult widget="walk-in:KEY"]</code><br><code>[openconsult widget="booking:KEY" height="700" title="' . esc_attr__( 'Book an appointment', 'openconsult' ) . '"]</code></p>';
	echo '</div>';
}

/**
 * Tell administrators, on the dashboard and the plugin's pages, that the address is still missing.
 */
function openconsult_missing_address_notice() {
	if ( '' !== openconsult_configured_origin() || ! current_user_can( 'manage_options' ) ) {
		return;
	}
	$screen = function_exists( 'get_current_screen' ) ? get_current_screen() : null;
	if ( $screen && ! in_array( $screen->id, array( 'dashboard', 'plugins', 'settings_page_openconsult' ), true ) ) {
		return; // Not on every admin page: where the administrator installs, configures or lands.
	}
	printf(
		'<div class="notice notice-warning"><p>%1$s <a href="%2$s">%3$s</a></p></div>',
		esc_html__( 'OpenConsult widgets stay empty until you enter your organisation\'s address.', 'openconsult' ),
		esc_url( admin_url( 'options-general.php?page=openconsult' ) ),
		esc_html__( 'Enter it in Settings → OpenConsult.', 'openconsult' )
	);
}

/**
 * A "Settings" link in the plugin list.
 *
 * @param array $links The plugin's action links.
 * @return array
 */
function openconsult_settings_link( $links ) {
	$links[] = '<a href="' . esc_url( admin_url( 'options-general.php?page=openconsult' ) ) . '">' . esc_html__( 'Settings', 'openconsult' ) . '</a>';
	return $links;
}
